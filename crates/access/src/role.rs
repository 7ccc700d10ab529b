//! Roles, the permissions they carry, and who may grant which role.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::AccessError;

/// A user's role within a tenant, or across the installation for
/// [`Role::PlatformOperator`].
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Holds the tenant: everything an admin may do, plus the tenant's settings.
    Owner,
    /// Runs the tenant day to day: sites, consents, audit, users and tokens.
    Admin,
    /// Edits site configurations and publishes them to staging.
    Editor,
    /// Promotes staging's configuration to production.
    Publisher,
    /// Reads and exports consent records.
    Analyst,
    /// Reads and exports the audit log.
    Auditor,
    /// Reads sites and their configurations.
    Viewer,
    /// Operates the installation: tenants and keys, but no tenant's data.
    PlatformOperator,
}

/// One thing an administrative request may need to be allowed to do.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read sites, environments, drafts and published configurations.
    ViewSites,
    /// Create sites, edit and validate drafts.
    EditSites,
    /// Publish a draft to the staging environment.
    PublishStaging,
    /// Promote staging's configuration to production.
    PromoteProduction,
    /// Search consent records and read their statistics.
    ViewConsents,
    /// Export consent records.
    ExportConsents,
    /// Read the audit log.
    ViewAudit,
    /// Export the audit log.
    ExportAudit,
    /// Manage users, invitations and roles.
    ManageUsers,
    /// Manage API tokens.
    ManageTokens,
    /// Manage a site's webhooks and their deliveries.
    ManageWebhooks,
    /// Change the tenant's own settings.
    ManageTenant,
    /// Create and list tenants.
    ManageTenants,
    /// Rotate the installation's keys.
    RotateKeys,
}

use Permission::*;

const VIEWER: &[Permission] = &[ViewSites];
const ANALYST: &[Permission] = &[ViewSites, ViewConsents, ExportConsents];
const AUDITOR: &[Permission] = &[ViewAudit, ExportAudit];
const EDITOR: &[Permission] = &[ViewSites, EditSites, PublishStaging];
const PUBLISHER: &[Permission] = &[ViewSites, PromoteProduction];
const ADMIN: &[Permission] = &[
    ViewSites,
    EditSites,
    PublishStaging,
    PromoteProduction,
    ViewConsents,
    ExportConsents,
    ViewAudit,
    ExportAudit,
    ManageUsers,
    ManageTokens,
    ManageWebhooks,
];
// Admin's list plus ManageTenant; a test keeps the two in step.
const OWNER: &[Permission] = &[
    ViewSites,
    EditSites,
    PublishStaging,
    PromoteProduction,
    ViewConsents,
    ExportConsents,
    ViewAudit,
    ExportAudit,
    ManageUsers,
    ManageTokens,
    ManageWebhooks,
    ManageTenant,
];
// Least privilege: operating the installation needs no tenant's consent data.
// The audit permissions give the operator the platform's own chain only:
// every audit read is scoped to the caller's chain.
const PLATFORM_OPERATOR: &[Permission] = &[ViewAudit, ExportAudit, ManageTenants, RotateKeys];

impl Role {
    /// Every role, in the order the documentation lists them.
    pub const ALL: [Role; 8] = [
        Role::Owner,
        Role::Admin,
        Role::Editor,
        Role::Publisher,
        Role::Analyst,
        Role::Auditor,
        Role::Viewer,
        Role::PlatformOperator,
    ];

    /// The role's snake_case name, as in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Publisher => "publisher",
            Role::Analyst => "analyst",
            Role::Auditor => "auditor",
            Role::Viewer => "viewer",
            Role::PlatformOperator => "platform_operator",
        }
    }

    /// The permissions the role carries.
    ///
    /// This is the single source of truth for authorisation: handlers ask
    /// [`Role::allows`], and the documentation is checked against
    /// [`markdown_matrix`], both of which read this table.
    pub fn permissions(self) -> &'static [Permission] {
        match self {
            Role::Owner => OWNER,
            Role::Admin => ADMIN,
            Role::Editor => EDITOR,
            Role::Publisher => PUBLISHER,
            Role::Analyst => ANALYST,
            Role::Auditor => AUDITOR,
            Role::Viewer => VIEWER,
            Role::PlatformOperator => PLATFORM_OPERATOR,
        }
    }

    /// Whether the role carries `permission`.
    pub fn allows(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }

    /// Whether signing in with this role needs a second factor: the roles
    /// that can grant access, reach every tenant, or change what production
    /// visitors see (promotion).
    pub fn requires_mfa(self) -> bool {
        matches!(
            self,
            Role::Owner | Role::Admin | Role::Publisher | Role::PlatformOperator
        )
    }

    /// Whether the role spans the whole installation rather than one tenant.
    pub fn is_platform(self) -> bool {
        self == Role::PlatformOperator
    }

    /// Whether a user holding `self` may give `role` to someone.
    ///
    /// Nobody may hand out more than they hold, so a grant needs
    /// [`Permission::ManageUsers`] and every permission of `role`. The
    /// platform operator is the exception both ways: only an operator may
    /// make another, and an operator may grant any role because it creates
    /// each tenant's first owner.
    pub fn may_grant(self, role: Role) -> bool {
        if self.is_platform() {
            return true;
        }
        if role.is_platform() {
            return false;
        }
        self.allows(ManageUsers) && role.permissions().iter().all(|p| self.allows(*p))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = AccessError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| AccessError::UnknownRole(s.to_owned()))
    }
}

impl Permission {
    /// Every permission, in the order the documentation lists them.
    pub const ALL: [Permission; 14] = [
        ViewSites,
        EditSites,
        PublishStaging,
        PromoteProduction,
        ViewConsents,
        ExportConsents,
        ViewAudit,
        ExportAudit,
        ManageUsers,
        ManageTokens,
        ManageWebhooks,
        ManageTenant,
        ManageTenants,
        RotateKeys,
    ];

    /// The permission's snake_case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ViewSites => "view_sites",
            EditSites => "edit_sites",
            PublishStaging => "publish_staging",
            PromoteProduction => "promote_production",
            ViewConsents => "view_consents",
            ExportConsents => "export_consents",
            ViewAudit => "view_audit",
            ExportAudit => "export_audit",
            ManageUsers => "manage_users",
            ManageTokens => "manage_tokens",
            ManageWebhooks => "manage_webhooks",
            ManageTenant => "manage_tenant",
            ManageTenants => "manage_tenants",
            RotateKeys => "rotate_keys",
        }
    }

    /// The permissions whose sensitive actions (role changes, removing
    /// users, API tokens, promotion, key rotation) ask a session for a
    /// second factor given within the last minutes. They are also the
    /// step-up scopes an API token can be created with: a token has no
    /// factor to give, so it may do those actions only when granted them
    /// by name.
    pub const STEP_UP: [Permission; 4] = [ManageUsers, ManageTokens, PromoteProduction, RotateKeys];

    /// Whether the permission is one of [`Permission::STEP_UP`].
    pub fn is_step_up(self) -> bool {
        Self::STEP_UP.contains(&self)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Permission {
    type Err = AccessError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::ALL
            .into_iter()
            .find(|permission| permission.as_str() == s)
            .ok_or_else(|| AccessError::UnknownPermission(s.to_owned()))
    }
}

/// The role × permission table as Markdown: one row per permission, one
/// column per role, "✓" where the role carries the permission.
///
/// Rendered from [`Role::permissions`] so the documentation can be compared
/// with the code rather than trusted.
pub fn markdown_matrix() -> String {
    let mut out = String::from("| Permission |");
    for role in Role::ALL {
        out.push_str(&format!(" {role} |"));
    }
    out.push_str("\n| --- |");
    out.push_str(&" :-: |".repeat(Role::ALL.len()));
    out.push('\n');
    for permission in Permission::ALL {
        out.push_str(&format!("| {permission} |"));
        for role in Role::ALL {
            out.push_str(if role.allows(permission) {
                " ✓ |"
            } else {
                "  |"
            });
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn table_cells() {
        assert_eq!(Role::Viewer.permissions(), &[ViewSites]);
        assert!(Role::Analyst.allows(ExportConsents));
        assert!(!Role::Analyst.allows(EditSites));
        assert!(Role::Auditor.allows(ViewAudit));
        assert!(!Role::Auditor.allows(ViewSites));
        assert!(Role::Editor.allows(PublishStaging));
        assert!(!Role::Editor.allows(PromoteProduction));
        assert!(Role::Publisher.allows(PromoteProduction));
        assert!(!Role::Publisher.allows(PublishStaging));
        assert!(Role::Admin.allows(ManageTokens));
        assert!(Role::Admin.allows(ManageWebhooks));
        assert!(Role::Owner.allows(ManageWebhooks));
        assert!(!Role::Editor.allows(ManageWebhooks));
        assert!(!Role::Admin.allows(ManageTenant));
        assert!(Role::Owner.allows(ManageTenant));
        assert!(!Role::Owner.allows(ManageTenants));
    }

    #[test]
    fn owner_is_admin_plus_tenant_settings() {
        let mut expected = Role::Admin.permissions().to_vec();
        expected.push(ManageTenant);
        assert_eq!(Role::Owner.permissions(), expected.as_slice());
    }

    #[test]
    fn platform_operator_sees_no_tenant_data() {
        assert_eq!(
            Role::PlatformOperator.permissions(),
            &[ViewAudit, ExportAudit, ManageTenants, RotateKeys]
        );
        assert!(!Role::PlatformOperator.allows(ViewConsents));
        let tenant_roles = Role::ALL.into_iter().filter(|r| !r.is_platform());
        for role in tenant_roles {
            assert!(!role.allows(ManageTenants), "{role}");
            assert!(!role.allows(RotateKeys), "{role}");
        }
    }

    #[test]
    fn every_permission_is_held_by_someone() {
        for permission in Permission::ALL {
            assert!(
                Role::ALL.into_iter().any(|r| r.allows(permission)),
                "{permission}"
            );
        }
    }

    #[test]
    fn mfa_and_platform_flags() {
        let mfa: Vec<Role> = Role::ALL.into_iter().filter(|r| r.requires_mfa()).collect();
        assert_eq!(
            mfa,
            [
                Role::Owner,
                Role::Admin,
                Role::Publisher,
                Role::PlatformOperator
            ]
        );
        let platform: Vec<Role> = Role::ALL.into_iter().filter(|r| r.is_platform()).collect();
        assert_eq!(platform, [Role::PlatformOperator]);
    }

    #[test]
    fn grants() {
        assert!(Role::Admin.may_grant(Role::Admin));
        assert!(Role::Admin.may_grant(Role::Viewer));
        assert!(!Role::Admin.may_grant(Role::Owner));
        assert!(!Role::Editor.may_grant(Role::Viewer));
        assert!(Role::Owner.may_grant(Role::Admin));
        assert!(Role::Owner.may_grant(Role::Owner));
        assert!(Role::PlatformOperator.may_grant(Role::Owner));
        assert!(Role::PlatformOperator.may_grant(Role::PlatformOperator));
        for role in Role::ALL.into_iter().filter(|r| !r.is_platform()) {
            assert!(!role.may_grant(Role::PlatformOperator), "{role}");
        }
    }

    #[test]
    fn names_round_trip_and_match_serde() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        for permission in Permission::ALL {
            assert_eq!(
                permission.as_str().parse::<Permission>().unwrap(),
                permission
            );
            let json = serde_json::to_string(&permission).unwrap();
            assert_eq!(json, format!("\"{}\"", permission.as_str()));
        }
        assert_eq!(
            "root".parse::<Role>(),
            Err(AccessError::UnknownRole("root".into()))
        );
        assert!("Owner".parse::<Role>().is_err());
    }

    fn cell(matrix: &str, permission: Permission, role: Role) -> String {
        let rows: Vec<Vec<&str>> = matrix
            .lines()
            .map(|line| line.split('|').map(str::trim).collect())
            .collect();
        let column = rows[0].iter().position(|h| *h == role.as_str()).unwrap();
        let row = rows.iter().find(|r| r[1] == permission.as_str()).unwrap();
        row[column].to_owned()
    }

    #[test]
    fn matrix_cells() {
        let matrix = markdown_matrix();
        assert_eq!(matrix.lines().count(), 2 + Permission::ALL.len());
        assert_eq!(cell(&matrix, ManageTenant, Role::Owner), "✓");
        assert_eq!(cell(&matrix, ManageTenant, Role::Admin), "");
        assert_eq!(cell(&matrix, ExportConsents, Role::Analyst), "✓");
        assert_eq!(cell(&matrix, ViewSites, Role::Auditor), "");
        assert_eq!(cell(&matrix, RotateKeys, Role::PlatformOperator), "✓");
        assert_eq!(cell(&matrix, ViewConsents, Role::PlatformOperator), "");
        for role in Role::ALL {
            for permission in Permission::ALL {
                let expected = if role.allows(permission) { "✓" } else { "" };
                assert_eq!(cell(&matrix, permission, role), expected);
            }
        }
    }
}
