//! Consent records for the tenant: search, export and statistics.
//!
//! A record that names the impression which showed its notice is paired
//! with that impression where it is stored ([`Admin::consent_records`]),
//! so an auditor sees what was shown beside what was chosen.

use crate::error::AdminError;
use crate::principal::Principal;
use crate::Admin;
use nexaguard_access::Permission;
use nexaguard_audit::Action;
use nexaguard_consent::event::{ConsentEvent, Impression};
use nexaguard_consent::token::ConsentToken;
use nexaguard_consent::Environment;
use nexaguard_store::admin::{AdminStore, ConsentQuery};
use nexaguard_store::SiteId;
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

/// Most records one search answers.
pub const MAX_SEARCH: u32 = 500;

/// Records an export reads per page.
const EXPORT_PAGE: u32 = 1000;

/// Most records statistics read; a wider range must be narrowed.
pub const MAX_STATS_EVENTS: u64 = 1_000_000;

/// What to look for.
#[derive(Debug, Clone, Default)]
pub struct ConsentFilter {
    /// A consent token (hashed before the lookup).
    pub token: Option<String>,
    /// An event id.
    pub event_id: Option<Uuid>,
    /// Recorded at or after.
    pub from: Option<OffsetDateTime>,
    /// Recorded before.
    pub to: Option<OffsetDateTime>,
    /// At most this many (search only).
    pub limit: Option<u32>,
}

/// A consent record as the lookup answers it: the recorded event (its
/// fields at the top level, as recorded) and, when the event names an
/// impression that is stored, that impression: when the notice was shown,
/// its version, the experience and the region.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentRecord {
    /// The event as recorded.
    #[serde(flatten)]
    pub event: ConsentEvent,
    /// The impression named by `impressionId`; absent when the event names
    /// none or it is not stored (never posted, or deleted by retention).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impression: Option<Impression>,
}

/// The record's schema: the event's own (which refuses unknown fields)
/// with `impression` added, since the event is flattened into the record.
/// A derived `allOf` of the two would describe no record with an
/// impression, the event's schema admitting no other field.
impl utoipa::PartialSchema for ConsentRecord {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{OneOfBuilder, Schema, Type};
        use utoipa::openapi::{ObjectBuilder, Ref, RefOr};
        let mut schema = <ConsentEvent as utoipa::PartialSchema>::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            object.description = Some(
                "A consent record: the event as recorded and, when it names a stored \
                 impression, that impression (absent otherwise)."
                    .to_owned(),
            );
            object.properties.insert(
                "impression".to_owned(),
                OneOfBuilder::new()
                    .item(ObjectBuilder::new().schema_type(Type::Null))
                    .item(Ref::from_schema_name("Impression"))
                    .into(),
            );
        }
        schema
    }
}

impl utoipa::ToSchema for ConsentRecord {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <ConsentEvent as utoipa::ToSchema>::schemas(schemas);
        schemas.push((
            "Impression".to_owned(),
            <Impression as utoipa::PartialSchema>::schema(),
        ));
        <Impression as utoipa::ToSchema>::schemas(schemas);
    }
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON object per line, exactly as recorded.
    JsonLines,
    /// One row per event, with a header row.
    Csv,
}

/// The records a query matches, read page by page, newest first: each
/// page continues below the last record of the one before (keyset paging,
/// so records recorded meanwhile neither shift nor repeat a page).
struct ConsentPages {
    store: Arc<dyn AdminStore>,
    query: ConsentQuery,
    done: bool,
}

impl ConsentPages {
    /// The next page; `None` once a short page has ended the records.
    async fn next(&mut self) -> Result<Option<Vec<ConsentEvent>>, AdminError> {
        if self.done {
            return Ok(None);
        }
        let page = self.store.search_consents(&self.query).await?;
        match page.last() {
            Some(last) if page.len() == self.query.limit as usize => {
                self.query.before = Some((last.recorded_at, last.event_id));
            }
            _ => self.done = true,
        }
        Ok(Some(page))
    }
}

/// An export in progress: pages of records, newest first.
pub struct ConsentExport {
    pages: ConsentPages,
    format: ExportFormat,
    header_written: bool,
}

impl std::fmt::Debug for ConsentExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsentExport").finish_non_exhaustive()
    }
}

/// Opt-in counts of one group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rate {
    /// Events in the group.
    pub events: u64,
    /// Events that granted something (a purpose, or a custom purpose).
    pub opt_ins: u64,
    /// `opt_ins / events`.
    pub opt_in_rate: f64,
}

/// Consent statistics of a site environment over a time range.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsentStats {
    /// Events counted.
    pub events: u64,
    /// By UTC day (`2026-11-24`).
    pub per_day: BTreeMap<String, Rate>,
    /// By action (`accept_all`, `reject_all`...).
    pub per_action: BTreeMap<String, u64>,
    /// Share of events granting each IAB purpose.
    pub per_purpose: BTreeMap<u32, Rate>,
    /// Share of events granting each IAB vendor.
    pub per_vendor: BTreeMap<u32, Rate>,
    /// Share of events granting each custom purpose.
    pub per_custom_purpose: BTreeMap<String, Rate>,
    /// By country (`unknown` without one).
    pub per_country: BTreeMap<String, Rate>,
    /// By device class.
    pub per_device_class: BTreeMap<String, Rate>,
}

impl Rate {
    fn add(&mut self, opt_in: bool) {
        self.events += 1;
        self.opt_ins += u64::from(opt_in);
    }

    fn finish(&mut self) {
        // Counts stay far below 2^52, where f64 is exact.
        #[allow(clippy::cast_precision_loss)]
        let rate = self.opt_ins as f64 / self.events.max(1) as f64;
        self.opt_in_rate = rate;
    }
}

/// The text of a unit enum as serialised (`accept_all`).
fn label<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "unknown".to_owned(),
    }
}

impl ConsentStats {
    fn add(&mut self, event: &ConsentEvent) {
        let opt_in = !event.purposes.is_empty() || !event.custom_purposes.is_empty();
        self.events += 1;
        let day = event.recorded_at.date().to_string();
        self.per_day.entry(day).or_default().add(opt_in);
        *self.per_action.entry(label(&event.action)).or_default() += 1;
        let country = event
            .context
            .country
            .clone()
            .unwrap_or_else(|| "unknown".to_owned());
        self.per_country.entry(country).or_default().add(opt_in);
        self.per_device_class
            .entry(label(&event.context.device_class))
            .or_default()
            .add(opt_in);
        for purpose in &event.purposes {
            self.per_purpose.entry(*purpose).or_default().opt_ins += 1;
        }
        for vendor in &event.vendors {
            self.per_vendor.entry(*vendor).or_default().opt_ins += 1;
        }
        for purpose in &event.custom_purposes {
            self.per_custom_purpose
                .entry(purpose.clone())
                .or_default()
                .opt_ins += 1;
        }
    }

    fn finish(&mut self) {
        let total = self.events;
        let grants = self
            .per_purpose
            .values_mut()
            .chain(self.per_vendor.values_mut())
            .chain(self.per_custom_purpose.values_mut());
        for rate in grants {
            rate.events = total;
            rate.finish();
        }
        let groups = self
            .per_day
            .values_mut()
            .chain(self.per_country.values_mut())
            .chain(self.per_device_class.values_mut());
        for rate in groups {
            rate.finish();
        }
    }
}

impl ConsentExport {
    /// The next chunk of the export's bytes; `None` at the end.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, AdminError> {
        let Some(page) = self.pages.next().await? else {
            return Ok(None);
        };
        let mut out = Vec::new();
        match self.format {
            ExportFormat::JsonLines => {
                for event in &page {
                    serde_json::to_writer(&mut out, event)
                        .map_err(|e| AdminError::invalid("export", e.to_string()))?;
                    out.push(b'\n');
                }
            }
            ExportFormat::Csv => {
                let mut writer = csv::Writer::from_writer(&mut out);
                let csv_error = |e: csv::Error| AdminError::invalid("export", e.to_string());
                if !self.header_written {
                    writer.write_record(CSV_HEADER).map_err(csv_error)?;
                    self.header_written = true;
                }
                for event in &page {
                    writer.write_record(csv_row(event)).map_err(csv_error)?;
                }
                writer
                    .flush()
                    .map_err(|e| AdminError::invalid("export", e.to_string()))?;
                drop(writer);
            }
        }
        // Only the last page can be empty.
        if out.is_empty() {
            return Ok(None);
        }
        Ok(Some(out))
    }
}

const CSV_HEADER: [&str; 29] = [
    "event_id",
    "recorded_at",
    "timestamp",
    "environment",
    "config_version",
    "action",
    "source",
    "language",
    "country",
    "device_class",
    "purposes",
    "vendors",
    "custom_purposes",
    "custom_vendors",
    "ad_storage",
    "ad_user_data",
    "ad_personalization",
    "analytics_storage",
    "functionality_storage",
    "personalization_storage",
    "security_storage",
    "region",
    "experience",
    "notice_version",
    "impression_id",
    "gpc_present",
    "gpc_applied",
    "gpp_string",
    "gpp_section_ids",
];

fn joined<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn csv_row(event: &ConsentEvent) -> Vec<String> {
    let time = |at: OffsetDateTime| {
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let mode = &event.consent_mode;
    vec![
        event.event_id.to_string(),
        time(event.recorded_at),
        time(event.timestamp),
        event.environment.as_str().to_owned(),
        event.config_version.to_string(),
        label(&event.action),
        label(&event.source),
        event.language.clone(),
        event.context.country.clone().unwrap_or_default(),
        label(&event.context.device_class),
        joined(&event.purposes),
        joined(&event.vendors),
        event.custom_purposes.join(" "),
        event.custom_vendors.join(" "),
        label(&mode.ad_storage),
        label(&mode.ad_user_data),
        label(&mode.ad_personalization),
        label(&mode.analytics_storage),
        label(&mode.functionality_storage),
        label(&mode.personalization_storage),
        label(&mode.security_storage),
        event
            .region
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        event
            .experience
            .map(|kind| kind.as_str().to_owned())
            .unwrap_or_default(),
        event
            .notice_version
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        event
            .impression_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        event
            .gpc
            .map(|gpc| gpc.present.to_string())
            .unwrap_or_default(),
        event
            .gpc
            .map(|gpc| gpc.applied.to_string())
            .unwrap_or_default(),
        event.gpp_string.clone().unwrap_or_default(),
        joined(&event.gpp_section_ids),
    ]
}

impl Admin {
    async fn consent_query(
        &self,
        principal: &Principal,
        permission: Permission,
        site: SiteId,
        environment: Environment,
        filter: &ConsentFilter,
        limit: u32,
    ) -> Result<ConsentQuery, AdminError> {
        principal.require(permission)?;
        self.store
            .tenant_site(principal.tenant()?, site)
            .await?
            .ok_or(AdminError::NotFound("site"))?;
        let token = filter
            .token
            .as_deref()
            .map(|token| {
                ConsentToken::parse(token)
                    .map(|t| self.tokens.hash(&t))
                    .map_err(|_| AdminError::invalid("bad_token", "that is not a consent token"))
            })
            .transpose()?;
        // A range that ends where or before it starts holds no record: the
        // store's query (at or after `from`, before `to`) finds none, as it
        // does for any range nothing was recorded in.
        Ok(ConsentQuery {
            site,
            environment,
            token,
            event_id: filter.event_id,
            from: filter.from,
            to: filter.to,
            before: None,
            limit,
        })
    }

    fn pages(&self, query: ConsentQuery) -> ConsentPages {
        ConsentPages {
            store: Arc::clone(&self.store),
            query,
            done: false,
        }
    }

    /// Finds consent records, newest first.
    pub async fn search_consents(
        &self,
        principal: &Principal,
        site: SiteId,
        environment: Environment,
        filter: &ConsentFilter,
    ) -> Result<Vec<ConsentEvent>, AdminError> {
        let limit = filter.limit.unwrap_or(50).clamp(1, MAX_SEARCH);
        let query = self
            .consent_query(
                principal,
                Permission::ViewConsents,
                site,
                environment,
                filter,
                limit,
            )
            .await?;
        Ok(self.store.search_consents(&query).await?)
    }

    /// [`Admin::search_consents`], each record with the impression it names
    /// where that impression is stored in the same site environment.
    pub async fn consent_records(
        &self,
        principal: &Principal,
        site: SiteId,
        environment: Environment,
        filter: &ConsentFilter,
    ) -> Result<Vec<ConsentRecord>, AdminError> {
        let events = self
            .search_consents(principal, site, environment, filter)
            .await?;
        let named: Vec<Uuid> = events.iter().filter_map(|e| e.impression_id).collect();
        let shown: HashMap<Uuid, Impression> = if named.is_empty() {
            HashMap::new()
        } else {
            self.consents
                .impressions_by_event_ids(site, environment, &named)
                .await?
                .into_iter()
                .map(|impression| (impression.event_id, impression))
                .collect()
        };
        Ok(events
            .into_iter()
            .map(|event| {
                // Several choices may name one impression (a banner
                // answered, then changed in the preference center).
                let impression = event.impression_id.and_then(|id| shown.get(&id).cloned());
                ConsentRecord { event, impression }
            })
            .collect())
    }

    /// Starts an export (audited), to be read chunk by chunk.
    pub async fn export_consents(
        &self,
        principal: &Principal,
        site: SiteId,
        environment: Environment,
        filter: &ConsentFilter,
        format: ExportFormat,
    ) -> Result<ConsentExport, AdminError> {
        let query = self
            .consent_query(
                principal,
                Permission::ExportConsents,
                site,
                environment,
                filter,
                EXPORT_PAGE,
            )
            .await?;
        self.store
            .append_audit(principal.audit(
                Action::ConsentsExported,
                format!("site:{}", site.0),
                json!({
                    "environment": environment.as_str(),
                    "format": match format { ExportFormat::Csv => "csv", ExportFormat::JsonLines => "jsonl" },
                }),
            ))
            .await?;
        Ok(ConsentExport {
            pages: self.pages(query),
            format,
            header_written: false,
        })
    }

    /// Opt-in statistics of a site environment.
    pub async fn consent_stats(
        &self,
        principal: &Principal,
        site: SiteId,
        environment: Environment,
        filter: &ConsentFilter,
    ) -> Result<ConsentStats, AdminError> {
        let query = self
            .consent_query(
                principal,
                Permission::ViewConsents,
                site,
                environment,
                filter,
                EXPORT_PAGE,
            )
            .await?;
        let mut pages = self.pages(query);
        let mut stats = ConsentStats::default();
        while let Some(page) = pages.next().await? {
            for event in &page {
                stats.add(event);
            }
            if stats.events > MAX_STATS_EVENTS {
                return Err(AdminError::invalid(
                    "range_too_large",
                    format!("more than {MAX_STATS_EVENTS} records: narrow the time range"),
                ));
            }
        }
        stats.finish();
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use serde_json::json;

    fn v2_event() -> ConsentEvent {
        serde_json::from_value(json!({
            "eventId": "8c0f8f0e-2f4b-4a55-9a0e-0b6f3b4f7d21", "schemaVersion": 2,
            "siteKey": "ngp_adce100183c9492cbe6a70142848250a", "environment": "production",
            "configVersion": 3, "timestamp": "2026-12-07T10:15:02Z",
            "recordedAt": "2026-12-07T10:15:02.120Z", "action": "custom", "source": "gpc",
            "consentMode": {"ad_storage": "granted", "ad_user_data": "denied",
                "ad_personalization": "denied", "analytics_storage": "granted",
                "functionality_storage": "granted", "personalization_storage": "granted",
                "security_storage": "granted"},
            "purposes": [], "customPurposes": ["analytics"], "vendors": [], "customVendors": [],
            "language": "en", "sdkVersion": "2.0.0",
            "context": {"country": "US", "deviceClass": "desktop"}, "policyWarnings": [],
            "region": "US-CA", "experience": "us", "gppString": "DBABBg~BAAAAABA.QA",
            "gppSectionIds": [8], "gpc": {"present": true, "applied": true},
            "noticeVersion": "3f2c1e0d9b8a76543210fedcba987654",
            "impressionId": "5d7c2a9e-1b3f-4c6d-8e0a-2f4b6d8c0e1a"
        }))
        .unwrap()
    }

    #[test]
    fn a_csv_row_has_a_cell_per_column_with_the_version_2_fields_last() {
        let row = csv_row(&v2_event());
        assert_eq!(row.len(), CSV_HEADER.len());
        let cell = |name: &str| &row[CSV_HEADER.iter().position(|c| *c == name).unwrap()];
        assert_eq!(cell("source"), "gpc");
        assert_eq!(cell("region"), "US-CA");
        assert_eq!(cell("experience"), "us");
        assert_eq!(cell("notice_version"), "3f2c1e0d9b8a76543210fedcba987654");
        assert_eq!(
            cell("impression_id"),
            "5d7c2a9e-1b3f-4c6d-8e0a-2f4b6d8c0e1a"
        );
        assert_eq!(
            (cell("gpc_present"), cell("gpc_applied")),
            (&"true".to_owned(), &"true".to_owned())
        );
        assert_eq!(cell("gpp_section_ids"), "8");
    }

    #[test]
    fn a_record_reads_as_its_event_with_the_impression_beside_it() {
        let event = v2_event();
        let alone = serde_json::to_value(ConsentRecord {
            event: event.clone(),
            impression: None,
        })
        .unwrap();
        assert_eq!(alone, serde_json::to_value(&event).unwrap());
        let impression: Impression = serde_json::from_value(json!({
            "eventId": "5d7c2a9e-1b3f-4c6d-8e0a-2f4b6d8c0e1a", "schemaVersion": 2,
            "siteKey": "ngp_adce100183c9492cbe6a70142848250a", "environment": "production",
            "configVersion": 3, "timestamp": "2026-12-07T10:14:31Z",
            "recordedAt": "2026-12-07T10:14:31.220Z", "region": "US-CA", "experience": "us",
            "noticeVersion": "3f2c1e0d9b8a76543210fedcba987654", "language": "en",
            "sdkVersion": "2.0.0"
        }))
        .unwrap();
        let paired = serde_json::to_value(ConsentRecord {
            event,
            impression: Some(impression),
        })
        .unwrap();
        assert_eq!(paired["action"], "custom");
        assert_eq!(paired["impression"]["timestamp"], "2026-12-07T10:14:31Z");
        assert_eq!(
            paired["impression"]["noticeVersion"],
            paired["noticeVersion"]
        );
    }
}
