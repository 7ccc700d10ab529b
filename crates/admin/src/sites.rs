//! Sites, configuration drafts, validation, publishing to staging and
//! promotion to production.

use crate::error::AdminError;
use crate::principal::Principal;
use crate::tenants::check_name;
use crate::Admin;
use nexaguard_access::Permission;
use nexaguard_audit::Action;
use nexaguard_consent::config::{ConfigError, ConfigProblem, SiteConfig};
use nexaguard_consent::Environment;
use nexaguard_store::admin::{Draft, DraftSave};
use nexaguard_store::{PublishedConfig, Site, SiteId};
use serde::Serialize;
use serde_json::{json, Value};

/// Longest configuration accepted, in bytes.
pub const MAX_CONFIG_BYTES: usize = 256 * 1024;

/// Most origins a site may list.
const MAX_ORIGINS: usize = 50;

/// The outcome of validating a configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Validation {
    /// Whether it may be published.
    pub valid: bool,
    /// Every problem, with the JSON path it concerns.
    pub problems: Vec<ConfigProblem>,
    /// The IAB vendors the banner would list, as the GVL describes them.
    pub vendors: Vec<VendorPreview>,
}

/// One vendor of the preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VendorPreview {
    /// GVL id.
    pub id: u32,
    /// Name.
    pub name: String,
    /// Purposes on consent.
    pub purposes: Vec<u32>,
    /// Purposes on legitimate interest.
    pub leg_int_purposes: Vec<u32>,
    /// Special features.
    pub special_features: Vec<u32>,
}

/// One difference between two configurations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Change {
    /// The JSON path (`vendors`, `languages.en.title`).
    pub path: String,
    /// The value before (absent: added).
    pub before: Option<Value>,
    /// The value after (absent: removed).
    pub after: Option<Value>,
}

/// What a promotion would change, or changed.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Promotion {
    /// The staging version promoted.
    pub staging_version: u32,
    /// The production version it replaces, if any.
    pub production_version: Option<u32>,
    /// The differences.
    pub changes: Vec<Change>,
    /// The new production version (after a promotion).
    pub published_version: Option<u32>,
}

/// Checks a site's origins: `https://host[:port]` (or `http://localhost`
/// and `http://127.0.0.1` for development), no path, at most
/// [`MAX_ORIGINS`]. The host is a name or IPv4 address (letters, digits,
/// `.`, `-`) or an IPv6 address in brackets, at most 253 bytes with the
/// port; the port is 1 to 5 digits. An origin is compared with the
/// browser's `Origin` header, so anything else could never match one.
pub fn check_origins(origins: &[String]) -> Result<(), AdminError> {
    if origins.len() > MAX_ORIGINS {
        return Err(AdminError::invalid(
            "bad_origin",
            format!("a site has at most {MAX_ORIGINS} origins"),
        ));
    }
    for origin in origins {
        let rest = match origin.strip_prefix("https://") {
            Some(rest) => Some(rest),
            // Plain http only for a developer's own machine.
            None => origin
                .strip_prefix("http://")
                .filter(|rest| matches!(rest.split(':').next(), Some("localhost" | "127.0.0.1"))),
        };
        if !rest.is_some_and(|rest| rest.len() <= 253 && is_host_and_port(rest)) {
            return Err(AdminError::invalid(
                "bad_origin",
                format!("{origin:?} is not an origin like https://www.example.com"),
            ));
        }
    }
    Ok(())
}

/// `host[:port]` of an origin: see [`check_origins`].
fn is_host_and_port(text: &str) -> bool {
    let (host, port) = match text.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((ipv6, port)) if ipv6.parse::<std::net::Ipv6Addr>().is_ok() => ("[]", port),
            _ => return false,
        },
        None => match text.find(':') {
            Some(colon) => text.split_at(colon),
            None => (text, ""),
        },
    };
    let host_ok = host == "[]"
        || (!host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')));
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|digits| {
            (1..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        });
    host_ok && port_ok
}

impl Admin {
    /// The sites of the caller's tenant.
    pub async fn list_sites(&self, principal: &Principal) -> Result<Vec<Site>, AdminError> {
        principal.require(Permission::ViewSites)?;
        Ok(self.store.tenant_sites(principal.tenant()?).await?)
    }

    /// A site of the caller's tenant.
    pub async fn site(&self, principal: &Principal, site: SiteId) -> Result<Site, AdminError> {
        principal.require(Permission::ViewSites)?;
        self.store
            .tenant_site(principal.tenant()?, site)
            .await?
            .ok_or(AdminError::NotFound("site"))
    }

    /// Finds a site of the caller's tenant after checking `permission`.
    async fn own_site(
        &self,
        principal: &Principal,
        site: SiteId,
        permission: Permission,
    ) -> Result<Site, AdminError> {
        principal.require(permission)?;
        self.store
            .tenant_site(principal.tenant()?, site)
            .await?
            .ok_or(AdminError::NotFound("site"))
    }

    /// The newest staging and production configurations of a site of the
    /// caller's tenant (either may not exist yet).
    pub async fn environments(
        &self,
        principal: &Principal,
        site: SiteId,
    ) -> Result<(Option<PublishedConfig>, Option<PublishedConfig>), AdminError> {
        let site = self
            .own_site(principal, site, Permission::ViewSites)
            .await?;
        let staging = self
            .store
            .latest_config(site.id, Environment::Staging)
            .await?;
        let production = self
            .store
            .latest_config(site.id, Environment::Production)
            .await?;
        Ok((staging, production))
    }

    /// Creates a site in the caller's tenant.
    pub async fn create_site(
        &self,
        principal: &Principal,
        name: &str,
        origins: &[String],
    ) -> Result<Site, AdminError> {
        principal.require(Permission::EditSites)?;
        let tenant = principal.tenant()?;
        let name = check_name(name, 200)?;
        check_origins(origins)?;
        let audit = principal.audit(Action::SiteCreated, "site:new", json!({"name": name}));
        Ok(self
            .store
            .create_tenant_site(tenant, name, origins, audit)
            .await?)
    }

    /// The site's draft; without one, the newest staging configuration as
    /// a starting point (revision 0).
    pub async fn draft(&self, principal: &Principal, site: SiteId) -> Result<Draft, AdminError> {
        let site = self
            .own_site(principal, site, Permission::ViewSites)
            .await?;
        if let Some(draft) = self.store.draft(site.id).await? {
            return Ok(draft);
        }
        let base = self
            .store
            .latest_config(site.id, Environment::Staging)
            .await?;
        Ok(Draft {
            site: site.id,
            revision: 0,
            config_json: base.map_or_else(|| "{}".to_owned(), |c| c.config_json),
            updated_at: site.created_at,
        })
    }

    /// Saves a draft over `base_revision` (0: no draft yet). The draft need
    /// not be valid yet; the answer says what is wrong with it.
    pub async fn save_draft(
        &self,
        principal: &Principal,
        site: SiteId,
        config: &Value,
        base_revision: u32,
    ) -> Result<(u32, Validation), AdminError> {
        let site = self
            .own_site(principal, site, Permission::EditSites)
            .await?;
        if !config.is_object() {
            return Err(AdminError::invalid(
                "bad_config",
                "a configuration is a JSON object",
            ));
        }
        let json = serde_json::to_string(config)
            .map_err(|e| AdminError::invalid("bad_config", e.to_string()))?;
        if json.len() > MAX_CONFIG_BYTES {
            return Err(AdminError::invalid(
                "config_too_large",
                format!("a configuration has at most {MAX_CONFIG_BYTES} bytes"),
            ));
        }
        let validation = self.validate(&json);
        let audit = principal.audit(
            Action::DraftSaved,
            format!("site:{}", site.id.0),
            json!({"valid": validation.valid}),
        );
        let base = (base_revision > 0).then_some(base_revision);
        match self.store.save_draft(site.id, &json, base, audit).await? {
            DraftSave::Saved(revision) => Ok((revision, validation)),
            DraftSave::Stale { current } => Err(AdminError::Conflict(format!(
                "the draft changed since revision {base_revision}: it is at revision {current}; \
                 reload it"
            ))),
        }
    }

    /// Validates a configuration: the site configuration rules and the TCF
    /// policy checks against the GVL, and the vendor list it would show.
    pub fn validate(&self, json: &str) -> Validation {
        let (problems, config) = match SiteConfig::from_json(json, &self.gvl) {
            Ok(config) => (Vec::new(), Some(config)),
            Err(ConfigError::Invalid(problems)) => {
                (problems, serde_json::from_str::<SiteConfig>(json).ok())
            }
            Err(ConfigError::Syntax(e)) => (
                vec![ConfigProblem {
                    path: String::new(),
                    message: e.to_string(),
                }],
                None,
            ),
        };
        let vendors = config
            .map(|config| {
                config
                    .vendors
                    .iter()
                    .filter_map(|id| self.gvl.vendor(*id))
                    .map(|v| VendorPreview {
                        id: v.id,
                        name: v.name.clone(),
                        purposes: v.purposes.clone(),
                        leg_int_purposes: v.leg_int_purposes.clone(),
                        special_features: v.special_features.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Validation {
            valid: problems.is_empty(),
            problems,
            vendors,
        }
    }

    /// Publishes the draft to staging; refused while it has problems.
    pub async fn publish_staging(
        &self,
        principal: &Principal,
        site: SiteId,
    ) -> Result<PublishedConfig, AdminError> {
        let site = self
            .own_site(principal, site, Permission::PublishStaging)
            .await?;
        let draft = self
            .store
            .draft(site.id)
            .await?
            .ok_or_else(|| AdminError::state("no_draft", "save a draft first"))?;
        let validation = self.validate(&draft.config_json);
        if !validation.valid {
            // The request is well formed; the stored draft is what cannot
            // be published, as with no draft at all: a conflict.
            return Err(AdminError::state(
                "invalid_config",
                format!(
                    "the draft has {} problem(s); the first: {}",
                    validation.problems.len(),
                    validation
                        .problems
                        .first()
                        .map(|p| format!("{}: {}", p.path, p.message))
                        .unwrap_or_default()
                ),
            ));
        }
        let audit = principal.audit(
            Action::Published,
            format!("site:{}", site.id.0),
            json!({"environment": "staging", "draft_revision": draft.revision}),
        );
        Ok(self
            .store
            .publish_audited(site.id, Environment::Staging, &draft.config_json, audit)
            .await?)
    }

    /// What promoting staging to production would change.
    pub async fn promotion_preview(
        &self,
        principal: &Principal,
        site: SiteId,
    ) -> Result<Promotion, AdminError> {
        let site = self
            .own_site(principal, site, Permission::ViewSites)
            .await?;
        let (staging, production) = self.promotion_pair(site.id).await?;
        Ok(promotion(&staging, production.as_ref(), None))
    }

    /// Promotes the newest staging configuration to production.
    pub async fn promote(
        &self,
        principal: &Principal,
        site: SiteId,
    ) -> Result<Promotion, AdminError> {
        principal.require_step_up(
            Permission::PromoteProduction,
            time::OffsetDateTime::now_utc(),
        )?;
        let site = self
            .own_site(principal, site, Permission::PromoteProduction)
            .await?;
        let (staging, production) = self.promotion_pair(site.id).await?;
        let preview = promotion(&staging, production.as_ref(), None);
        if preview.changes.is_empty() && production.is_some() {
            return Err(AdminError::Conflict(
                "production already has staging's configuration".to_owned(),
            ));
        }
        let audit = principal.audit(
            Action::Promoted,
            format!("site:{}", site.id.0),
            json!({
                "staging_version": staging.version,
                "production_version": production.as_ref().map(|p| p.version),
                "changed_paths": preview.changes.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(),
            }),
        );
        let published = self
            .store
            .publish_audited(
                site.id,
                Environment::Production,
                &staging.config_json,
                audit,
            )
            .await?;
        Ok(Promotion {
            published_version: Some(published.version),
            ..preview
        })
    }

    async fn promotion_pair(
        &self,
        site: SiteId,
    ) -> Result<(PublishedConfig, Option<PublishedConfig>), AdminError> {
        let staging = self
            .store
            .latest_config(site, Environment::Staging)
            .await?
            .ok_or_else(|| AdminError::state("nothing_staged", "publish to staging first"))?;
        let production = self
            .store
            .latest_config(site, Environment::Production)
            .await?;
        Ok((staging, production))
    }
}

fn promotion(
    staging: &PublishedConfig,
    production: Option<&PublishedConfig>,
    published_version: Option<u32>,
) -> Promotion {
    let parse = |json: &str| serde_json::from_str::<Value>(json).unwrap_or(Value::Null);
    let after = parse(&staging.config_json);
    let before = production.map_or(Value::Null, |p| parse(&p.config_json));
    let mut changes = Vec::new();
    diff(String::new(), Some(&before), Some(&after), &mut changes);
    Promotion {
        staging_version: staging.version,
        production_version: production.map(|p| p.version),
        changes,
        published_version,
    }
}

/// The differences between two JSON values, by path: objects are compared
/// key by key, anything else as a whole.
pub fn diff(path: String, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<Change>) {
    match (before, after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                diff(child, b.get(key), a.get(key), out);
            }
        }
        (b, a) if b == a => {}
        (b, a) => out.push(Change {
            path,
            before: b.filter(|v| !v.is_null()).cloned(),
            after: a.filter(|v| !v.is_null()).cloned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn diff_names_changed_added_and_removed_paths() {
        let before = json!({"a": 1, "b": {"c": [1, 2], "d": "x"}, "gone": true});
        let after = json!({"a": 1, "b": {"c": [1, 3], "d": "x"}, "new": 5});
        let mut changes = Vec::new();
        diff(String::new(), Some(&before), Some(&after), &mut changes);
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["b.c", "gone", "new"]);
        assert_eq!(changes[0].before, Some(json!([1, 2])));
        assert_eq!(changes[0].after, Some(json!([1, 3])));
        assert_eq!(changes[1].after, None);
        assert_eq!(changes[2].before, None);
    }

    #[test]
    fn origins_are_schemes_and_hosts_only() {
        let ok = |o: &str| check_origins(&[o.to_owned()]).is_ok();
        assert!(ok("https://www.example.com"));
        assert!(ok("https://shop.example:8443"));
        assert!(ok("http://localhost:3000"));
        assert!(!ok("http://www.example.com"));
        assert!(!ok("http://localhost.evil.example"));
        assert!(!ok("https://www.example.com/path"));
        assert!(!ok("javascript:alert(1)"));
        assert!(!ok("https://"));
        assert!(check_origins(&vec!["https://a.example".to_owned(); 51]).is_err());
    }
}
