"""The type tokens the policies look at, as the engine names them in every request."""

GENERIC_RESOURCE = "azure-native:resources:Resource"

# Microsoft Entra (azuread)
APPLICATION = "azuread:index/application:Application"
IDENTIFIER_URI = "azuread:index/applicationIdentifierUri:ApplicationIdentifierUri"
FEDERATED_CREDENTIAL = "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential"
SERVICE_PRINCIPAL = "azuread:index/servicePrincipal:ServicePrincipal"
APP_ROLE_ASSIGNMENT = "azuread:index/appRoleAssignment:AppRoleAssignment"
CONSENT_GRANT = ("azuread:index/servicePrincipalDelegatedPermissionGrant:"
                 "ServicePrincipalDelegatedPermissionGrant")
# Secrets and certificates an app or service principal could sign in with instead of its federated credential.
ENTRA_CREDENTIAL_TYPES = frozenset({
    "azuread:index/applicationPassword:ApplicationPassword",
    "azuread:index/applicationCertificate:ApplicationCertificate",
    "azuread:index/servicePrincipalPassword:ServicePrincipalPassword",
    "azuread:index/servicePrincipalCertificate:ServicePrincipalCertificate",
    "azuread:index/servicePrincipalTokenSigningCertificate:ServicePrincipalTokenSigningCertificate",
    "azuread:index/applicationFlexibleFederatedIdentityCredential:ApplicationFlexibleFederatedIdentityCredential",
})

# The site
SITE = "azure-native:web:WebApp"
SITE_TYPES = frozenset({SITE, "azure-native:web:WebAppSlot"})
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
AUTH_SETTINGS_V1_TYPES = frozenset({"azure-native:web:WebAppAuthSettings", "azure-native:web:WebAppAuthSettingsSlot"})
DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
LOG_ANALYTICS_WORKSPACE = "azure-native:operationalinsights:Workspace"
APPLICATION_INSIGHTS = "azure-native:applicationinsights:Component"
ACTION_GROUP = "azure-native:monitor:ActionGroup"
ALERT_RULE = "azure-native:monitor:ScheduledQueryRule"
FILE_SHARE = "azure-native:storage:FileShare"

# Identity, storage, model, authorization
USER_ASSIGNED_IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_CONTAINER = "azure-native:storage:BlobContainer"
MODEL_ACCOUNT = "azure-native:cognitiveservices:Account"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"

APP_PRE_AUTHORIZED = "azuread:index/applicationPreAuthorized:ApplicationPreAuthorized"

# Networking and resilience (policy/network.py, policy/resilience.py)
PLAN = "azure-native:web:AppServicePlan"
PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"
DNS_ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup"
LOCK = "azure-native:authorization:ManagementLockByScope"
