//! Enrolling the second factor (TOTP): the offer, and its confirmation.
//!
//! Invariant: the TOTP secret and the recovery codes appear in exactly one
//! answer each (the offer, the confirmation); nothing else reads them back.

use crate::admin::answer::{named, WithSession};
use crate::admin::extract::{AdminJson, AdminJsonOrDefault, AdminService, Caller, RequestBody};
use crate::admin::rules;
use crate::error::ApiError;
use axum::Json;
use nexaguard_access::csrf_token;
use nexaguard_admin::auth::{NextStep, Reauthentication};
use nexaguard_admin::AdminError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What replacing a second factor needs; a first enrolment sends nothing.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnrolmentRequest {
    /// The password, to replace an enrolled factor.
    pub password: Option<String>,
    /// A current code of the enrolled factor (or a recovery code), with the
    /// password.
    pub code: Option<String>,
}

impl RequestBody for EnrolmentRequest {}

/// A TOTP secret offered for enrolment.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnrolmentOffer {
    /// The `otpauth://` URI, for a QR code.
    pub provisioning_uri: String,
    /// The secret in base32, for typing in by hand.
    pub secret: String,
}

/// A confirmed enrolment: the session has given its second factor.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Enrolled {
    /// Always `ready`.
    pub next: NextStep,
    /// The recovery codes, shown this once.
    pub recovery_codes: Vec<String>,
    /// The CSRF token of the session's new id.
    pub csrf_token: String,
}

/// The enrolment's confirmation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    /// The authenticator's current code for the offered secret.
    #[schema(schema_with = rules::totp_code)]
    pub code: String,
}

impl RequestBody for Confirmation {}

named!(EnrolmentRequest, EnrolmentOffer, Enrolled, Confirmation);

/// `POST /mfa/enrolment`.
pub async fn start_enrolment(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    AdminJsonOrDefault(wanted): AdminJsonOrDefault<EnrolmentRequest>,
) -> Result<Json<EnrolmentOffer>, ApiError> {
    let label = match admin.me(&principal).await? {
        Some(user) => user.email,
        None => {
            return Err(AdminError::Forbidden("API tokens have no second factor".into()).into())
        }
    };
    let proof = match (&wanted.password, &wanted.code) {
        (Some(password), Some(code)) => Some(Reauthentication { password, code }),
        _ => None,
    };
    let enrolment = admin.start_enrolment(&principal, &label, proof).await?;
    Ok(Json(EnrolmentOffer {
        provisioning_uri: enrolment.provisioning_uri,
        secret: enrolment.secret_base32,
    }))
}

/// `POST /mfa/enrolment/confirm`.
pub async fn confirm_enrolment(
    AdminService(admin): AdminService,
    Caller(principal): Caller,
    AdminJson(Confirmation { code }): AdminJson<Confirmation>,
) -> Result<WithSession<Enrolled>, ApiError> {
    let enrolled = admin.confirm_enrolment(&principal, &code).await?;
    let csrf_token = csrf_token(admin.csrf_key(), &enrolled.session);
    Ok(WithSession {
        session: enrolled.session,
        body: Enrolled {
            next: NextStep::Ready,
            recovery_codes: enrolled.recovery_codes,
            csrf_token,
        },
    })
}
