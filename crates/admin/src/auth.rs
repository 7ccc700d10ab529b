//! Signing in and staying signed in: passwords, the second factor
//! (TOTP and recovery codes), sessions, API tokens, lockout.

use crate::error::AdminError;
use crate::keys::Scope;
use crate::principal::{audit_entry, chain_of, Authentication, Principal};
use crate::Admin;
use nexaguard_access::{
    check_session, generate_recovery_codes, hash_password, hash_recovery_code, verify_dummy,
    verify_password, ApiTokenSecret, SessionSecret, Throttle, TotpError, TotpSecret,
};
use nexaguard_audit::{Action, Actor, Outcome};
use nexaguard_store::admin::{AuditAppend, SessionRecord, User, UserChange, UserId};
use serde_json::json;
use time::OffsetDateTime;

/// The issuer name authenticator apps show.
const TOTP_ISSUER: &str = "NexaGuard";

/// Sessions are touched at most this often, so that every request of a busy
/// console does not write.
const TOUCH_EVERY: time::Duration = time::Duration::minutes(1);

/// What a sign-in gives.
#[derive(Debug)]
pub struct SignedIn {
    /// The new session's id, for the cookie. Shown once, stored hashed.
    pub session: SessionSecret,
    /// What the session must do before anything else.
    pub next: NextStep,
}

/// The second-factor state of a fresh session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NextStep {
    /// Nothing: the session may act.
    Ready,
    /// Enter the TOTP code (or a recovery code).
    MfaCode,
    /// Enrol a second factor (the role requires one).
    MfaEnrolment,
}

/// A TOTP enrolment offered to the user.
#[derive(Debug)]
pub struct Enrolment {
    /// The `otpauth://` URI for a QR code.
    pub provisioning_uri: String,
    /// The secret in base32, for typing in by hand.
    pub secret_base32: String,
}

/// A confirmed enrolment.
#[derive(Debug)]
pub struct Enrolled {
    /// The session's new id: a step-up gets a fresh one.
    pub session: SessionSecret,
    /// The recovery codes, shown this once.
    pub recovery_codes: Vec<String>,
}

fn unix_seconds(at: OffsetDateTime) -> u64 {
    u64::try_from(at.unix_timestamp()).unwrap_or(0)
}

fn retry_after(duration: time::Duration) -> u64 {
    u64::try_from(duration.whole_seconds()).unwrap_or(0).max(1)
}

impl Admin {
    /// Signs in with an e-mail address, a password and, optionally, a
    /// code of the user's second factor (which then needs no second step).
    ///
    /// Unknown addresses, wrong passwords and locked accounts get the same
    /// answer and take the same time (the password is checked in every
    /// case), so the answers do not tell which addresses have accounts or
    /// which accounts are under attack; every failure is audited (without
    /// the address). While an account is locked after repeated failures,
    /// the password alone is refused but the password with a current code
    /// of the account's second factor is accepted: an attacker who knows
    /// the address can slow guessing down but cannot keep the owner out.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        code: Option<&str>,
        network: Option<String>,
    ) -> Result<SignedIn, AdminError> {
        let now = OffsetDateTime::now_utc();
        let index = self.keys.email_index(email).await?;
        let accounts = self.store.users_by_email_index(&index).await?;
        if accounts.is_empty() {
            verify_dummy(password);
            self.store
                .append_audit(audit_entry(
                    chain_of(None),
                    Actor::System,
                    Action::LoginFailed,
                    "user:unknown".to_owned(),
                    Outcome::Failure,
                    network,
                    json!({"reason": "unknown_account"}),
                ))
                .await?;
            return Err(AdminError::BadCredentials);
        }
        // An address has at most one account per tenant; the password tells
        // which one signs in (accepting an invitation refuses a password
        // the address already uses). Every account's password is checked,
        // so the time taken does not say which one matched.
        let mut matched = None;
        for account in &accounts {
            if verify_password(password, &account.password_hash) && matched.is_none() {
                matched = Some(account);
            }
        }
        let code = code.map(str::trim).filter(|c| !c.is_empty());
        let Some(user) = matched else {
            for account in &accounts {
                let user_audit = account_audit(account, &network);
                if account.throttle.locked(now).is_some() {
                    // Not counted: a refused attempt must not lengthen the lock.
                    self.audit_locked_attempt(&user_audit).await?;
                } else {
                    self.record_failure(
                        account,
                        now,
                        &user_audit,
                        Action::LoginFailed,
                        "wrong_password",
                    )
                    .await?;
                }
            }
            return Err(AdminError::BadCredentials);
        };
        let user_audit = account_audit(user, &network);
        let locked = user.throttle.locked(now);
        let factor = match code {
            Some(code) if user.has_mfa() => Some(self.check_code(user, code, now).await?),
            _ => None,
        };
        match (locked, factor) {
            (_, Some(CodeCheck::Totp | CodeCheck::Recovery)) => {}
            (Some(_), None) => {
                self.audit_locked_attempt(&user_audit).await?;
                return Err(AdminError::BadCredentials);
            }
            (None, None) => {}
            (locked, Some(failed)) => {
                self.record_failure(user, now, &user_audit, Action::MfaFailed, failed.reason())
                    .await?;
                // During a lock every failure reads the same, so that the
                // answer does not confirm the password.
                return Err(match (locked, failed) {
                    (Some(_), _) => AdminError::BadCredentials,
                    (None, CodeCheck::Replayed) => AdminError::ReplayedCode,
                    (None, _) => AdminError::BadCode,
                });
            }
        }
        self.clear_throttle(user).await?;
        let factor_given = factor.is_some();
        let session = SessionSecret::generate();
        self.store
            .create_session(session_record(&session, user.id, factor_given, now), None)
            .await?;
        self.store
            .append_audit(user_audit(
                Action::LoginSucceeded,
                Outcome::Success,
                json!({"withCode": factor_given, "duringLockout": locked.is_some()}),
            ))
            .await?;
        if let Some(factor) = factor {
            self.store
                .append_audit(user_audit(factor.action(), Outcome::Success, json!({})))
                .await?;
        }
        let next = if factor_given {
            NextStep::Ready
        } else if user.has_mfa() {
            NextStep::MfaCode
        } else if user.role.requires_mfa() {
            NextStep::MfaEnrolment
        } else {
            NextStep::Ready
        };
        Ok(SignedIn { session, next })
    }

    /// Audits an attempt refused because the account is locked.
    async fn audit_locked_attempt(
        &self,
        user_audit: &impl Fn(Action, Outcome, serde_json::Value) -> AuditAppend,
    ) -> Result<(), AdminError> {
        self.store
            .append_audit(user_audit(
                Action::LoginFailed,
                Outcome::Denied,
                json!({"reason": "locked"}),
            ))
            .await?;
        Ok(())
    }

    /// Checks a code of the user's second factor: a TOTP code (claimed, so
    /// that it cannot be used twice, also across nodes) or an unused
    /// recovery code (spent).
    async fn check_code(
        &self,
        user: &User,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<CodeCheck, AdminError> {
        let sealed = user
            .totp_sealed
            .clone()
            .ok_or_else(|| AdminError::invalid("no_mfa", "no second factor is enrolled"))?;
        let secret = self.open_totp(user, &sealed).await?;
        Ok(match secret.verify(code, unix_seconds(now), None) {
            Ok(step) if self.store.claim_totp_step(user.id, step).await? => CodeCheck::Totp,
            Ok(_) => CodeCheck::Replayed,
            Err(TotpError::Malformed)
                if self
                    .store
                    .use_recovery_code(user.id, &hash_recovery_code(code))
                    .await? =>
            {
                CodeCheck::Recovery
            }
            Err(_) => CodeCheck::Wrong,
        })
    }

    /// A success clears the failure count.
    async fn clear_throttle(&self, user: &User) -> Result<(), AdminError> {
        if user.throttle != Throttle::default() {
            self.store
                .update_user(
                    user.tenant,
                    user.id,
                    UserChange::Throttle(Throttle::default()),
                    None,
                )
                .await?;
        }
        Ok(())
    }

    /// Counts a failed password or code against the account, auditing the
    /// failure and, when it starts one, the lockout.
    async fn record_failure(
        &self,
        user: &User,
        now: OffsetDateTime,
        user_audit: &impl Fn(Action, Outcome, serde_json::Value) -> AuditAppend,
        failed: Action,
        reason: &str,
    ) -> Result<(), AdminError> {
        let after = user.throttle.record_failure(now);
        self.store
            .update_user(
                user.tenant,
                user.id,
                UserChange::Throttle(after),
                Some(user_audit(
                    failed,
                    Outcome::Failure,
                    json!({"reason": reason, "failures": after.failures}),
                )),
            )
            .await?;
        if Throttle::just_locked(&user.throttle, &after) {
            tracing::warn!(
                target: "security",
                event = "lockout",
                user = %user.id.0,
                failures = after.failures,
                "account locked after repeated failures"
            );
            self.store
                .append_audit(user_audit(
                    Action::Lockout,
                    Outcome::Denied,
                    json!({"failures": after.failures}),
                ))
                .await?;
        }
        Ok(())
    }

    /// The caller behind a session id: checks the timeouts (an expired
    /// session is removed) and that the user still exists.
    pub async fn authenticate_session(
        &self,
        secret: &SessionSecret,
        network: Option<String>,
    ) -> Result<Principal, AdminError> {
        let now = OffsetDateTime::now_utc();
        let id_hash = secret.hash();
        let session = self
            .store
            .session(&id_hash)
            .await?
            .ok_or(AdminError::Unauthenticated)?;
        if let Err(expiry) = check_session(session.created_at, session.last_seen_at, now) {
            self.store.revoke_session(&id_hash, None).await?;
            return Err(AdminError::SessionExpired(expiry));
        }
        let user = self
            .store
            .user(session.user)
            .await?
            .ok_or(AdminError::Unauthenticated)?;
        if now - session.last_seen_at >= TOUCH_EVERY {
            self.store.touch_session(&id_hash, now).await?;
        }
        Ok(Principal {
            actor: Actor::User(user.id.0),
            tenant: user.tenant,
            role: user.role,
            auth: Authentication::Session {
                id_hash,
                user: user.id,
                mfa_verified: session.mfa_verified,
                mfa_enrolled: user.has_mfa(),
                mfa_at: session.mfa_at,
            },
            network,
        })
    }

    /// The caller behind an API token.
    pub async fn authenticate_token(
        &self,
        secret: &ApiTokenSecret,
        network: Option<String>,
    ) -> Result<Principal, AdminError> {
        let now = OffsetDateTime::now_utc();
        let token = self
            .store
            .api_token_by_hash(&secret.hash())
            .await?
            .ok_or(AdminError::Unauthenticated)?;
        if token.revoked_at.is_some() {
            return Err(AdminError::TokenRevoked);
        }
        if token.expires_at <= now {
            return Err(AdminError::TokenExpired);
        }
        if token
            .last_used_at
            .map_or(true, |last| now - last >= TOUCH_EVERY)
        {
            self.store.touch_api_token(token.id, now).await?;
        }
        Ok(Principal {
            actor: Actor::Token(token.id.0),
            tenant: Some(token.tenant),
            role: token.role,
            auth: Authentication::Token {
                id: token.id,
                expires_at: token.expires_at,
                step_up_scopes: token.step_up_scopes,
            },
            network,
        })
    }

    fn session_user(principal: &Principal) -> Result<([u8; 32], UserId), AdminError> {
        match principal.auth {
            Authentication::Session { id_hash, user, .. } => Ok((id_hash, user)),
            Authentication::Token { .. } => Err(AdminError::Forbidden(
                "this needs a signed-in user, not an API token".to_owned(),
            )),
            Authentication::System => Err(AdminError::Forbidden(
                "this needs a signed-in user".to_owned(),
            )),
        }
    }

    async fn load_user(&self, id: UserId) -> Result<User, AdminError> {
        self.store
            .user(id)
            .await?
            .ok_or(AdminError::Unauthenticated)
    }

    /// Starts (or restarts) TOTP enrolment.
    ///
    /// A user who already has a second factor is replacing it, which hands
    /// the account to whoever completes it: that needs the password and a
    /// current code of the present factor (a TOTP code, or a recovery code
    /// when the authenticator is lost) in this very request, whatever the
    /// session's step-up state, so that a session cookie alone is never
    /// enough. Failures count towards the account's lockout like sign-in
    /// failures.
    pub async fn start_enrolment(
        &self,
        principal: &Principal,
        account_label: &str,
        proof: Option<Reauthentication<'_>>,
    ) -> Result<Enrolment, AdminError> {
        let (_, user_id) = Self::session_user(principal)?;
        if let Authentication::Session {
            mfa_enrolled: true,
            mfa_verified: false,
            ..
        } = principal.auth
        {
            return Err(AdminError::MfaRequired);
        }
        let user = self.load_user(user_id).await?;
        if user.has_mfa() {
            let proof = proof.ok_or(AdminError::ReauthenticationRequired)?;
            self.reauthenticate(principal, &user, proof).await?;
        }
        let secret = TotpSecret::generate();
        let sealed = self
            .keys
            .seal(
                Scope::of(user.tenant),
                &totp_context(user.id),
                secret.as_bytes(),
            )
            .await?;
        self.store
            .update_user(user.tenant, user.id, UserChange::TotpOffered(sealed), None)
            .await?;
        let provisioning_uri = secret
            .provisioning_uri(TOTP_ISSUER, account_label)
            .map_err(|e| AdminError::invalid("bad_label", e.to_string()))?;
        Ok(Enrolment {
            provisioning_uri,
            secret_base32: secret.base32(),
        })
    }

    /// The enrolment offered and not yet confirmed, to show again after a
    /// wrong confirmation code (a replacement must not need the proof a
    /// second time for a typo).
    pub async fn offered_enrolment(
        &self,
        principal: &Principal,
        account_label: &str,
    ) -> Result<Option<Enrolment>, AdminError> {
        let (_, user_id) = Self::session_user(principal)?;
        let user = self.load_user(user_id).await?;
        let Some(sealed) = user.totp_pending_sealed.as_deref() else {
            return Ok(None);
        };
        let secret = self.open_totp(&user, sealed).await?;
        let provisioning_uri = secret
            .provisioning_uri(TOTP_ISSUER, account_label)
            .map_err(|e| AdminError::invalid("bad_label", e.to_string()))?;
        Ok(Some(Enrolment {
            provisioning_uri,
            secret_base32: secret.base32(),
        }))
    }

    /// Checks the password and a current code of the user's factor, given
    /// together, with the lockout of sign-in.
    async fn reauthenticate(
        &self,
        principal: &Principal,
        user: &User,
        proof: Reauthentication<'_>,
    ) -> Result<(), AdminError> {
        let now = OffsetDateTime::now_utc();
        let user_audit = |action, outcome, details| {
            principal.audit_outcome(action, format!("user:{}", user.id.0), outcome, details)
        };
        if let Some(remaining) = user.throttle.locked(now) {
            return Err(AdminError::Locked {
                retry_after_secs: retry_after(remaining),
            });
        }
        if !verify_password(proof.password, &user.password_hash) {
            self.record_failure(user, now, &user_audit, Action::MfaFailed, "wrong_password")
                .await?;
            return Err(AdminError::BadCredentials);
        }
        match self.check_code(user, proof.code.trim(), now).await? {
            CodeCheck::Totp | CodeCheck::Recovery => {}
            CodeCheck::Replayed => return Err(AdminError::ReplayedCode),
            CodeCheck::Wrong => {
                self.record_failure(user, now, &user_audit, Action::MfaFailed, "wrong_code")
                    .await?;
                return Err(AdminError::BadCode);
            }
        }
        self.clear_throttle(user).await
    }

    /// Confirms enrolment with a code from the offered secret: the secret
    /// becomes the user's, recovery codes are made, every session of the
    /// user ends but this one, which gets a new id with the second factor
    /// given. Replacing a factor is audited as `mfa.reset`.
    pub async fn confirm_enrolment(
        &self,
        principal: &Principal,
        code: &str,
    ) -> Result<Enrolled, AdminError> {
        let (old_hash, user_id) = Self::session_user(principal)?;
        let user = self.load_user(user_id).await?;
        let sealed = user
            .totp_pending_sealed
            .clone()
            .ok_or_else(|| AdminError::state("no_enrolment", "start an enrolment first"))?;
        let secret = self.open_totp(&user, &sealed).await?;
        let now = OffsetDateTime::now_utc();
        let step = match secret.verify(code, unix_seconds(now), None) {
            Ok(step) => step,
            Err(TotpError::Malformed) => {
                return Err(AdminError::invalid("bad_code", "a code is six digits"))
            }
            Err(_) => return Err(AdminError::BadCode),
        };
        let recovery_codes = generate_recovery_codes();
        let recovery_hashes = recovery_codes
            .iter()
            .map(|c| hash_recovery_code(c))
            .collect();
        let action = if user.has_mfa() {
            Action::MfaReset
        } else {
            Action::MfaEnrolled
        };
        // Read before the change, which ends every session of the user.
        let started = self.session_started(&old_hash, now).await?;
        self.store
            .update_user(
                user.tenant,
                user.id,
                UserChange::TotpConfirmed {
                    sealed,
                    step,
                    recovery_hashes,
                },
                Some(principal.audit(
                    action,
                    format!("user:{}", user.id.0),
                    json!({"otherSessionsEnded": true}),
                )),
            )
            .await?;
        let session = self
            .replace_session(old_hash, user.id, started, now)
            .await?;
        Ok(Enrolled {
            session,
            recovery_codes,
        })
    }

    async fn open_totp(&self, user: &User, sealed: &str) -> Result<TotpSecret, AdminError> {
        let bytes = self.keys.open(sealed, &totp_context(user.id)).await?;
        TotpSecret::from_bytes(&bytes)
            .map_err(|_| AdminError::invalid("corrupt_secret", "the stored TOTP secret is damaged"))
    }

    /// When the session began; the absolute timeout runs from the
    /// sign-in, not from a step-up.
    async fn session_started(
        &self,
        id_hash: &[u8; 32],
        now: OffsetDateTime,
    ) -> Result<OffsetDateTime, AdminError> {
        Ok(self
            .store
            .session(id_hash)
            .await?
            .map_or(now, |s| s.created_at))
    }

    /// A new session id with the second factor given, replacing the old
    /// one (so that a session id seen before the step-up is worthless).
    async fn replace_session(
        &self,
        old_hash: [u8; 32],
        user: UserId,
        started: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<SessionSecret, AdminError> {
        let session = SessionSecret::generate();
        let mut record = session_record(&session, user, true, now);
        record.created_at = started;
        self.store.create_session(record, Some(old_hash)).await?;
        Ok(session)
    }

    /// Gives the second factor in this session: a TOTP code, or one of the
    /// recovery codes. A replayed TOTP code is refused, also across nodes.
    pub async fn verify_mfa(
        &self,
        principal: &Principal,
        code: &str,
    ) -> Result<SessionSecret, AdminError> {
        let (old_hash, user_id) = Self::session_user(principal)?;
        let user = self.load_user(user_id).await?;
        let now = OffsetDateTime::now_utc();
        let user_audit = |action, outcome, details| {
            principal.audit_outcome(action, format!("user:{}", user.id.0), outcome, details)
        };
        if let Some(remaining) = user.throttle.locked(now) {
            return Err(AdminError::Locked {
                retry_after_secs: retry_after(remaining),
            });
        }
        let action = match self.check_code(&user, code, now).await? {
            CodeCheck::Replayed => {
                self.store
                    .append_audit(user_audit(
                        Action::MfaFailed,
                        Outcome::Failure,
                        json!({"reason": "replayed_code"}),
                    ))
                    .await?;
                return Err(AdminError::ReplayedCode);
            }
            CodeCheck::Wrong => {
                self.record_failure(&user, now, &user_audit, Action::MfaFailed, "wrong_code")
                    .await?;
                return Err(AdminError::BadCode);
            }
            found => found.action(),
        };
        self.clear_throttle(&user).await?;
        self.store
            .append_audit(user_audit(action, Outcome::Success, json!({})))
            .await?;
        let started = self.session_started(&old_hash, now).await?;
        self.replace_session(old_hash, user.id, started, now).await
    }

    /// Ends the caller's session.
    pub async fn logout(&self, principal: &Principal) -> Result<(), AdminError> {
        let (id_hash, user) = Self::session_user(principal)?;
        self.store
            .revoke_session(
                &id_hash,
                Some(principal.audit(Action::Logout, format!("user:{}", user.0), json!({}))),
            )
            .await?;
        Ok(())
    }

    /// Changes the caller's password; every session of theirs ends. It
    /// needs the current password and, for a user with a second factor, a
    /// step-up within the last minutes; wrong current passwords count
    /// towards the account's lockout as at sign-in.
    pub async fn change_password(
        &self,
        principal: &Principal,
        current: &str,
        new: &str,
    ) -> Result<(), AdminError> {
        let (_, user_id) = Self::session_user(principal)?;
        let now = OffsetDateTime::now_utc();
        principal.require_mfa_done()?;
        principal.require_recent_factor(now)?;
        let user = self.load_user(user_id).await?;
        if let Some(remaining) = user.throttle.locked(now) {
            return Err(AdminError::Locked {
                retry_after_secs: retry_after(remaining),
            });
        }
        if !verify_password(current, &user.password_hash) {
            let user_audit = |action, outcome, details| {
                principal.audit_outcome(action, format!("user:{}", user.id.0), outcome, details)
            };
            self.record_failure(
                &user,
                now,
                &user_audit,
                Action::PasswordChangeFailed,
                "wrong_current_password",
            )
            .await?;
            return Err(AdminError::BadCredentials);
        }
        let hash =
            hash_password(new).map_err(|e| AdminError::invalid("weak_password", e.to_string()))?;
        self.clear_throttle(&user).await?;
        self.store
            .update_user(
                user.tenant,
                user.id,
                UserChange::Password(hash),
                Some(principal.audit(
                    Action::PasswordChanged,
                    format!("user:{}", user.id.0),
                    json!({"sessions_revoked": true}),
                )),
            )
            .await?;
        Ok(())
    }
}

/// The password and a current second-factor code, given together to
/// replace the second factor.
#[derive(Debug, Clone, Copy)]
pub struct Reauthentication<'a> {
    /// The account's password.
    pub password: &'a str,
    /// A current TOTP code or an unused recovery code.
    pub code: &'a str,
}

/// What a code given for a user's second factor turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CodeCheck {
    /// A current TOTP code, now claimed.
    Totp,
    /// An unused recovery code, now spent.
    Recovery,
    /// A TOTP code already used.
    Replayed,
    /// Neither.
    Wrong,
}

impl CodeCheck {
    /// The audit action of a code that worked.
    fn action(self) -> Action {
        match self {
            CodeCheck::Recovery => Action::RecoveryCodeUsed,
            _ => Action::MfaVerified,
        }
    }

    /// The audit reason of a code that did not.
    fn reason(self) -> &'static str {
        match self {
            CodeCheck::Replayed => "replayed_code",
            _ => "wrong_code",
        }
    }
}

/// The audit entries of an attempt on `user`'s account: the account by
/// id in its tenant's chain, never the address.
fn account_audit<'a>(
    user: &'a User,
    network: &'a Option<String>,
) -> impl Fn(Action, Outcome, serde_json::Value) -> AuditAppend + 'a {
    move |action, outcome, details| {
        audit_entry(
            chain_of(user.tenant),
            Actor::User(user.id.0),
            action,
            format!("user:{}", user.id.0),
            outcome,
            network.clone(),
            details,
        )
    }
}

fn totp_context(user: UserId) -> String {
    format!("totp|{}", user.0)
}

fn session_record(
    secret: &SessionSecret,
    user: UserId,
    mfa_verified: bool,
    now: OffsetDateTime,
) -> SessionRecord {
    SessionRecord {
        id_hash: secret.hash(),
        user,
        mfa_verified,
        mfa_at: mfa_verified.then_some(now),
        created_at: now,
        last_seen_at: now,
    }
}
