"""Operator tools run against a deployed stack (they read `pulumi stack output --json`)."""
