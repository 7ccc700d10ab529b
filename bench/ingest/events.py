#!/usr/bin/env python3
"""Writes the consent events that bench/ingest/post.lua posts.

    events.py CONFIG_JSON VENDOR_LIST_JSON TIMESTAMP NEXAGUARD OUT

CONFIG_JSON is the server's answer to GET /v1/sites/{siteKey}/config.json for
the demo site, VENDOR_LIST_JSON its /v1/gvl/vendor-list.json, TIMESTAMP the
client timestamp of every event (RFC 3339), NEXAGUARD the nexaguard binary
(its `tcf encode` writes the TC strings), OUT the file to write.

OUT gets three events, one JSON object per line: "accept all", "reject all"
and a custom choice, valid for the site's published configuration whether it
is a TCF site or a plain opt-in one. Each has "@EVENT_ID@" where the event id
goes; post.lua puts a distinct id there for every request.

Reading the configuration instead of hard-coding the demo's keeps the bench
working when the demo configuration changes.
"""

import json
import subprocess
import sys

PLACEHOLDER = "@EVENT_ID@"

def consent_mode(mapping, purposes, custom_purposes):
    """Each Consent Mode type is granted when every purpose mapped to it is."""
    states = {}
    for kind in (
        "ad_storage",
        "ad_user_data",
        "ad_personalization",
        "analytics_storage",
        "functionality_storage",
        "personalization_storage",
        "security_storage",
    ):
        m = mapping.get(kind) or {}
        wanted_iab = m.get("purposes") or []
        wanted_custom = m.get("customPurposes") or []
        granted = (wanted_iab or wanted_custom) and all(
            p in purposes for p in wanted_iab
        ) and all(p in custom_purposes for p in wanted_custom)
        states[kind] = "granted" if granted else "denied"
    return states


def tc_string(nexaguard, model):
    result = subprocess.run(
        [nexaguard, "tcf", "encode", json.dumps(model)],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    config_path, gvl_path, timestamp, nexaguard, out = sys.argv[1:]
    with open(config_path, encoding="utf-8") as f:
        answer = json.load(f)
    with open(gvl_path, encoding="utf-8") as f:
        gvl = json.load(f)
    config = answer["config"]
    language = answer["language"]
    mapping = (config.get("consentMode") or {}).get("mapping") or {}

    custom = config.get("customPurposes") or []
    necessary = [p["id"] for p in custom if p.get("necessary")]
    optional = [p["id"] for p in custom if not p.get("necessary")]
    iab_purposes = config.get("purposes") or []
    tcf = config["regulation"] == "tcf"

    # Vendors that may carry a consent bit under the policy checks: those
    # declaring a consent purpose, a flexible purpose or a special feature.
    consent_vendors = []
    for vendor_id in config.get("vendors") or []:
        v = gvl["vendors"].get(str(vendor_id)) or {}
        if v.get("purposes") or v.get("flexiblePurposes") or v.get("specialFeatures"):
            consent_vendors.append(vendor_id)

    half = len(iab_purposes) // 2 or len(iab_purposes)
    choices = [
        ("accept_all", iab_purposes, consent_vendors, necessary + optional,
         config.get("specialFeatures") or []),
        ("reject_all", [], [], necessary, []),
        ("custom", iab_purposes[:half], consent_vendors[: max(1, len(consent_vendors) // 2)]
         if consent_vendors else [], necessary + optional[:1], []),
    ]

    lines = []
    for action, purposes, vendors, custom_granted, special_features in choices:
        event = {
            "eventId": PLACEHOLDER,
            "schemaVersion": 1,
            "siteKey": answer["siteKey"],
            "environment": answer["environment"],
            "configVersion": answer["configVersion"],
            "timestamp": timestamp,
            "action": action,
            "source": "banner",
        }
        if tcf:
            model = {
                "cmpId": config["cmpId"],
                "cmpVersion": config.get("cmpVersion", 1),
                "vendorListVersion": gvl["vendorListVersion"],
                "policyVersion": gvl["tcfPolicyVersion"],
                "publisherCountryCode": config["publisherCountry"],
                "consentLanguage": language.split("-")[0].upper(),
                "purposeConsents": purposes,
                "specialFeatureOptins": special_features,
                "vendorConsents": vendors,
                "vendorsDisclosed": config.get("vendors") or [],
            }
            event["tcString"] = tc_string(nexaguard, model)
        custom_vendors = [
            v["id"]
            for v in config.get("customVendors") or []
            if all(p in custom_granted for p in v.get("purposes") or [])
        ]
        event.update(
            {
                "consentMode": consent_mode(mapping, purposes, custom_granted),
                "purposes": purposes if tcf else [],
                "customPurposes": custom_granted,
                "vendors": vendors if tcf else [],
                "customVendors": custom_vendors,
                "language": language,
                "sdkVersion": "bench-ingest",
            }
        )
        lines.append(json.dumps(event, separators=(",", ":")))

    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    sizes = ", ".join(str(len(line)) for line in lines)
    print(
        f"{len(lines)} event templates ({'TCF' if tcf else 'opt-in'} site, bodies of {sizes} bytes)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
