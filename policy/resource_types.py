"""The type tokens the policies look at, as the engine names them in every request."""

GENERIC_RESOURCE = "azure-native:resources:Resource"
APPLICATION = "azuread:index/application:Application"
CONSENT_GRANT = ("azuread:index/servicePrincipalDelegatedPermissionGrant:"
                 "ServicePrincipalDelegatedPermissionGrant")
SITE_TYPES = frozenset({"azure-native:web:WebApp", "azure-native:web:WebAppSlot"})
PUBLISHING_CREDENTIAL_TYPES = frozenset({
    "azure-native:web:WebAppFtpAllowed", "azure-native:web:WebAppScmAllowed",
    "azure-native:web:WebAppFtpAllowedSlot", "azure-native:web:WebAppScmAllowedSlot",
})
# A site's app settings as their own resource (Microsoft.Web/sites/config/appsettings: a name -> value map).
APP_SETTINGS_TYPES = frozenset({
    "azure-native:web:WebAppApplicationSettings", "azure-native:web:WebAppApplicationSettingsSlot",
})
FTP_ALLOWED = "azure-native:web:WebAppFtpAllowed"
SCM_ALLOWED = "azure-native:web:WebAppScmAllowed"
AUTH_SETTINGS_TYPES = frozenset({
    "azure-native:web:WebAppAuthSettingsV2WithoutSecrets", "azure-native:web:WebAppAuthSettingsV2",
    "azure-native:web:WebAppAuthSettingsV2WithoutSecretsSlot", "azure-native:web:WebAppAuthSettingsV2Slot",
})
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_CONTAINER = "azure-native:storage:BlobContainer"
MODEL_ACCOUNT = "azure-native:cognitiveservices:Account"
PLAN = "azure-native:web:AppServicePlan"
WEB_APP = "azure-native:web:WebApp"
WORKSPACE = "azure-native:operationalinsights:Workspace"
PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"
DNS_ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup"
LOCK = "azure-native:authorization:ManagementLockByScope"
