___TERMS_OF_SERVICE___

By creating or modifying this file you agree to Google Tag Manager's Community
Template Gallery Developer Terms of Service available at
https://developers.google.com/tag-manager/gallery-tos (or such other URL as
Google may provide), as modified from time to time.


___INFO___

{
  "type": "TAG",
  "id": "cvt_temp_public_id",
  "version": 1,
  "securityGroups": [],
  "displayName": "NexaGuard CMP",
  "categories": [
    "UTILITY"
  ],
  "brand": {
    "id": "brand_nexaguard",
    "displayName": "NexaGuard"
  },
  "description": "Loads the NexaGuard consent banner from your NexaGuard server and passes each visitor\u0027s choice to Google Consent Mode v2: defaults per region before any tag, then an update on every choice and on each page for a returning visitor. Fire on Consent Initialization - All Pages.",
  "containerContexts": [
    "WEB"
  ]
}


___TEMPLATE_PARAMETERS___

[
  {
    "type": "LABEL",
    "name": "triggerNote",
    "displayName": "Fire this tag on the \u003cstrong\u003eConsent Initialization - All Pages\u003c/strong\u003e trigger only. Use it instead of the NexaGuard snippet in the page, never together with it."
  },
  {
    "type": "TEXT",
    "name": "serverUrl",
    "displayName": "NexaGuard server URL",
    "simpleValueType": true,
    "valueHint": "https://cmp.example.com",
    "help": "The https origin your NexaGuard server answers on (its --public-url), without a path. The SDK is loaded from \u003ccode\u003e/sdk/v1/nexaguard.js\u003c/code\u003e there and talks to the API at the same origin.",
    "alwaysInSummary": true,
    "valueValidators": [
      {
        "type": "NON_EMPTY"
      },
      {
        "type": "REGEX",
        "args": [
          "^https://[A-Za-z0-9.:\\[\\]-]+/?$"
        ],
        "errorMessage": "An https origin such as https://cmp.example.com, without a path, query or credentials."
      }
    ]
  },
  {
    "type": "TEXT",
    "name": "siteKey",
    "displayName": "Site key",
    "simpleValueType": true,
    "valueHint": "ngp_…",
    "help": "The public key of the site environment, from the NexaGuard console: \u003ccode\u003engp_…\u003c/code\u003e for production, \u003ccode\u003engs_…\u003c/code\u003e for staging.",
    "alwaysInSummary": true,
    "valueValidators": [
      {
        "type": "NON_EMPTY"
      },
      {
        "type": "REGEX",
        "args": [
          "^ng[ps]_[0-9a-f]{32}$"
        ],
        "errorMessage": "A NexaGuard site key: ngp_ or ngs_ followed by 32 lower-case hexadecimal digits."
      }
    ]
  },
  {
    "type": "GROUP",
    "name": "consentModeGroup",
    "displayName": "Consent Mode defaults",
    "groupStyle": "ZIPPY_OPEN",
    "subParams": [
      {
        "type": "PARAM_TABLE",
        "name": "defaultSettings",
        "displayName": "Defaults per region",
        "help": "One row per group of regions, and one row with the region left empty for everywhere else. Regions: ISO 3166 codes separated by commas (\u003ccode\u003eDE\u003c/code\u003e, \u003ccode\u003eUS-CA\u003c/code\u003e) or the names of NexaGuard\u0027s region groups (\u003ccode\u003eEEA\u003c/code\u003e, \u003ccode\u003eeea_uk_ch\u003c/code\u003e, \u003ccode\u003eus_comprehensive\u003c/code\u003e, \u003ccode\u003eca_qc\u003c/code\u003e, \u003ccode\u003ebr\u003c/code\u003e). Without a row for everywhere else, every type is denied there. Keep these rows the same as the site\u0027s regional rules in NexaGuard.",
        "newRowButtonText": "Add row",
        "paramTableColumns": [
          {
            "param": {
              "type": "TEXT",
              "name": "region",
              "displayName": "Regions (empty: everywhere else)",
              "simpleValueType": true
            },
            "isUnique": true
          },
          {
            "param": {
              "type": "SELECT",
              "name": "ad_storage",
              "displayName": "ad_storage",
              "macrosInSelect": false,
              "selectItems": [
                {
                  "value": "denied",
                  "displayValue": "denied"
                },
                {
                  "value": "granted",
                  "displayValue": "granted"
                }
              ],
              "simpleValueType": true,
              "defaultValue": "denied"
            },
            "isUnique": false
          },
          {
            "param": {
              "type": "SELECT",
              "name": "ad_user_data",
              "displayName": "ad_user_data",
              "macrosInSelect": false,
              "selectItems": [
                {
                  "value": "denied",
                  "displayValue": "denied"
                },
                {
                  "value": "granted",
                  "displayValue": "granted"
                }
              ],
              "simpleValueType": true,
              "defaultValue": "denied"
            },
            "isUnique": false
          },
          {
            "param": {
              "type": "SELECT",
              "name": "ad_personalization",
              "displayName": "ad_personalization",
              "macrosInSelect": false,
              "selectItems": [
                {
                  "value": "denied",
                  "displayValue": "denied"
                },
                {
                  "value": "granted",
                  "displayValue": "granted"
                }
              ],
              "simpleValueType": true,
              "defaultValue": "denied"
            },
            "isUnique": false
          },
          {
            "param": {
              "type": "SELECT",
              "name": "analytics_storage",
              "displayName": "analytics_storage",
              "macrosInSelect": false,
              "selectItems": [
                {
                  "value": "denied",
                  "displayValue": "denied"
                },
                {
                  "value": "granted",
                  "displayValue": "granted"
                }
              ],
              "simpleValueType": true,
              "defaultValue": "denied"
            },
            "isUnique": false
          },
          {
            "param": {
              "type": "SELECT",
              "name": "functionality_storage",
              "displayName": "functionality_storage",
              "macrosInSelect": false,
              "selectItems": [
                {
                  "value": "denied",
                  "displayValue": "denied"
                },
                {
                  "value": "granted",
                  "displayValue": "granted"
                }
              ],
              "simpleValueType": true,
              "defaultValue": "denied"
            },
            "isUnique": false
          },
          {
            "param": {
              "type": "SELECT",
              "name": "personalization_storage",
              "displayName": "personalization_storage",
              "macrosInSelect": false,
              "selectItems": [
                {
                  "value": "denied",
                  "displayValue": "denied"
                },
                {
                  "value": "granted",
                  "displayValue": "granted"
                }
              ],
              "simpleValueType": true,
              "defaultValue": "denied"
            },
            "isUnique": false
          },
          {
            "param": {
              "type": "SELECT",
              "name": "security_storage",
              "displayName": "security_storage",
              "macrosInSelect": false,
              "selectItems": [
                {
                  "value": "granted",
                  "displayValue": "granted"
                },
                {
                  "value": "denied",
                  "displayValue": "denied"
                }
              ],
              "simpleValueType": true,
              "defaultValue": "granted"
            },
            "isUnique": false
          }
        ]
      },
      {
        "type": "TEXT",
        "name": "waitForUpdate",
        "displayName": "wait_for_update",
        "simpleValueType": true,
        "valueUnit": "milliseconds",
        "defaultValue": 500,
        "help": "How long Google tags wait for the visitor\u0027s choice before they send data under the defaults. 0 leaves it out.",
        "valueValidators": [
          {
            "type": "NON_NEGATIVE_NUMBER"
          }
        ]
      },
      {
        "type": "CHECKBOX",
        "name": "urlPassthrough",
        "checkboxText": "url_passthrough: pass ad click information in URLs while ad_storage is denied",
        "simpleValueType": true,
        "defaultValue": false
      },
      {
        "type": "CHECKBOX",
        "name": "adsDataRedaction",
        "checkboxText": "ads_data_redaction: redact ad click information while ad_storage is denied",
        "simpleValueType": true,
        "defaultValue": false
      }
    ]
  }
]


___SANDBOXED_JS_FOR_WEB_TEMPLATE___

// NexaGuard CMP tag: Google Consent Mode v2 defaults for each region,
// then the NexaGuard SDK for the site key, then a Consent Mode update from
// each choice the SDK reports (and, on each page, from a stored choice).
// Meant for Consent Initialization - All Pages. Tested under an emulation
// of the sandbox: integrations/gtm/test/sandbox.test.mjs.

const setDefaultConsentState = require('setDefaultConsentState');
const updateConsentState = require('updateConsentState');
const gtagSet = require('gtagSet');
const injectScript = require('injectScript');
const callInWindow = require('callInWindow');
const copyFromWindow = require('copyFromWindow');
const queryPermission = require('queryPermission');
const encodeUriComponent = require('encodeUriComponent');
const makeInteger = require('makeInteger');
const getType = require('getType');
const logToConsole = require('logToConsole');

const TYPES = ['ad_storage', 'ad_user_data', 'ad_personalization', 'analytics_storage',
  'functionality_storage', 'personalization_storage', 'security_storage'];

// The server's region groups (crates/consent/src/regions.rs), so that a
// row can name what the site's regional rules name; the test checks the
// lists against the server's. EEA has no group on the server: it is
// eea_uk_ch without the United Kingdom and Switzerland.
const GROUPS = {
  eea: ['AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE',
    'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE',
    'GF', 'GP', 'MQ', 'RE', 'YT', 'MF', 'AX', 'IS', 'LI', 'NO'],
  eea_uk_ch: ['AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE',
    'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE',
    'GF', 'GP', 'MQ', 'RE', 'YT', 'MF', 'AX', 'IS', 'LI', 'NO', 'GB', 'CH'],
  us_comprehensive: ['US-CA', 'US-VA', 'US-CO', 'US-CT', 'US-UT', 'US-TX', 'US-OR', 'US-MT',
    'US-DE', 'US-IA', 'US-NE', 'US-NH', 'US-NJ', 'US-TN', 'US-MN', 'US-MD', 'US-IN', 'US-KY',
    'US-RI'],
  // The server leaves CA-QC out of the gtag list too: CA covers it.
  ca_qc: ['CA'],
  br: ['BR']
};

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const HEX = '0123456789abcdef';
const HOST = 'abcdefghijklmnopqrstuvwxyz0123456789.-:[]';

// The sandbox has no regular expressions.
const onlyOf = function (s, allowed) {
  for (let i = 0; i < s.length; i++) {
    if (allowed.indexOf(s.charAt(i)) < 0) return false;
  }
  return true;
};

const log = function (message) {
  logToConsole('NexaGuard CMP: ' + message);
};

// ISO 3166-1 alpha-2, or ISO 3166-2 (country, hyphen, 1 to 3 letters or
// digits), which is what Consent Mode's region parameter takes.
const isRegionCode = function (code) {
  const parts = code.split('-');
  if (parts.length > 2 || parts[0].length !== 2 || !onlyOf(parts[0], UPPER)) return false;
  return parts.length === 1 ||
    (parts[1].length >= 1 && parts[1].length <= 3 && onlyOf(parts[1], UPPER + DIGITS));
};

// Codes people write that no visitor has: ISO 3166-1 reserves them, and a
// row of them would never apply.
const MISTAKES = { EU: 'EEA or eea_uk_ch', UK: 'GB', EL: 'GR' };

const regionsOf = function (text) {
  const codes = [];
  const bad = [];
  text.split(',').forEach(function (raw) {
    const entry = raw.trim();
    if (!entry) return;
    const group = GROUPS[entry.toLowerCase()];
    // getType, not truthiness: a plain object also answers 'constructor'.
    const list = getType(group) === 'array' ? group : [entry.toUpperCase()];
    list.forEach(function (code) {
      const hint = MISTAKES[code];
      if (getType(hint) === 'string') {
        bad.push(entry + ' (use ' + hint + ')');
      } else if (!isRegionCode(code)) {
        bad.push(entry);
      } else if (codes.indexOf(code) < 0) {
        codes.push(code);
      }
    });
  });
  return { codes: codes, bad: bad };
};

const statesOf = function (row) {
  const states = {};
  TYPES.forEach(function (type) {
    // Anything but 'granted' is denied, as Google reads it.
    states[type] = row[type] === 'granted' ? 'granted' : 'denied';
  });
  return states;
};

const setDefaults = function () {
  const rows = getType(data.defaultSettings) === 'array' ? data.defaultSettings : [];
  const wait = makeInteger(data.waitForUpdate);
  let everywhere = null;
  rows.forEach(function (row, index) {
    const text = getType(row.region) === 'string' ? row.region.trim() : '';
    if (!text) {
      if (everywhere) log('row ' + (index + 1) + ' also has no region; only the first such row is used');
      else everywhere = row;
      return;
    }
    const regions = regionsOf(text);
    if (regions.bad.length) log('row ' + (index + 1) + ': not a region code or group: ' + regions.bad.join(', '));
    // A row whose regions are all unusable is dropped: sent without a
    // region it would become the default everywhere.
    if (!regions.codes.length) return;
    const states = statesOf(row);
    states.region = regions.codes;
    if (wait > 0) states.wait_for_update = wait;
    setDefaultConsentState(states);
  });
  // After the regional rows, as the server orders them; Google picks the
  // most specific region whatever the order.
  const states = statesOf(everywhere || {});
  if (wait > 0) states.wait_for_update = wait;
  setDefaultConsentState(states);
  gtagSet({
    url_passthrough: data.urlPassthrough === true,
    ads_data_redaction: data.adsDataRedaction === true
  });
};

// The https origin alone: the SDK takes its API base from its own origin.
const originOf = function (url) {
  if (getType(url) !== 'string') return '';
  let u = url.trim().toLowerCase();
  if (u.charAt(u.length - 1) === '/') u = u.substring(0, u.length - 1);
  if (u.indexOf('https://') !== 0) return '';
  const host = u.substring(8);
  return host && onlyOf(host, HOST) ? u : '';
};

const siteKeyOf = function (key) {
  if (getType(key) !== 'string') return '';
  const k = key.trim();
  const prefixed = k.indexOf('ngp_') === 0 || k.indexOf('ngs_') === 0;
  return prefixed && k.length === 36 && onlyOf(k.substring(4), HEX) ? k : '';
};

const consentModeOf = function (state) {
  if (getType(state) !== 'object' || getType(state.consentMode) !== 'object') return null;
  const update = {};
  TYPES.forEach(function (type) {
    update[type] = state.consentMode[type] === 'granted' ? 'granted' : 'denied';
  });
  return update;
};

const listen = function () {
  // The SDK reports a stored choice on load with a consent event, then
  // ready; ready is also called back when subscribed to late. So ready
  // updates only when no consent event came first, and a first visit
  // (ready with null) updates nothing.
  let updated = false;
  callInWindow('NexaGuard.on', 'consent', function (state) {
    const update = consentModeOf(state);
    if (!update) return;
    updated = true;
    updateConsentState(update);
  });
  callInWindow('NexaGuard.on', 'ready', function (state) {
    const update = consentModeOf(state);
    if (!update || updated) return;
    updated = true;
    updateConsentState(update);
  });
};

const main = function () {
  // The defaults go first and whatever else is wrong: if the SDK cannot be
  // loaded, Google tags still see denied rather than no consent state.
  setDefaults();
  const origin = originOf(data.serverUrl);
  const siteKey = siteKeyOf(data.siteKey);
  if (!origin) {
    log('the server URL must be an https origin such as https://cmp.example.com');
    return data.gtmOnFailure();
  }
  if (!siteKey) {
    log('the site key must be ngp_ or ngs_ followed by 32 hexadecimal digits');
    return data.gtmOnFailure();
  }
  // injectScript cannot set data-site-key: the SDK reads it from its URL.
  const url = origin + '/sdk/v1/nexaguard.js?siteKey=' + encodeUriComponent(siteKey);
  if (!queryPermission('inject_script', url)) {
    log('the template\u0027s "Injects scripts" permission does not allow ' + url);
    return data.gtmOnFailure();
  }
  injectScript(url, function () {
    if (getType(copyFromWindow('NexaGuard.on')) !== 'function') {
      log('the script at ' + url + ' loaded but defined no window.NexaGuard');
      return data.gtmOnFailure();
    }
    listen();
    data.gtmOnSuccess();
  }, function () {
    log('could not load ' + url);
    data.gtmOnFailure();
  }, 'nexaguard-sdk');
};

main();


___WEB_PERMISSIONS___

[
  {
    "instance": {
      "key": {
        "publicId": "access_consent",
        "versionId": "1"
      },
      "param": [
        {
          "key": "consentTypes",
          "value": {
            "type": 2,
            "listItem": [
              {
                "type": 3,
                "mapKey": [
                  {
                    "type": 1,
                    "string": "consentType"
                  },
                  {
                    "type": 1,
                    "string": "read"
                  },
                  {
                    "type": 1,
                    "string": "write"
                  }
                ],
                "mapValue": [
                  {
                    "type": 1,
                    "string": "ad_storage"
                  },
                  {
                    "type": 8,
                    "boolean": false
                  },
                  {
                    "type": 8,
                    "boolean": true
                  }
                ]
              },
              {
                "type": 3,
                "mapKey": [
                  {
                    "type": 1,
                    "string": "consentType"
                  },
                  {
                    "type": 1,
                    "string": "read"
                  },
                  {
                    "type": 1,
                    "string": "write"
                  }
                ],
                "mapValue": [
                  {
                    "type": 1,
                    "string": "ad_user_data"
                  },
                  {
                    "type": 8,
                    "boolean": false
                  },
                  {
                    "type": 8,
                    "boolean": true
                  }
                ]
              },
              {
                "type": 3,
                "mapKey": [
                  {
                    "type": 1,
                    "string": "consentType"
                  },
                  {
                    "type": 1,
                    "string": "read"
                  },
                  {
                    "type": 1,
                    "string": "write"
                  }
                ],
                "mapValue": [
                  {
                    "type": 1,
                    "string": "ad_personalization"
                  },
                  {
                    "type": 8,
                    "boolean": false
                  },
                  {
                    "type": 8,
                    "boolean": true
                  }
                ]
              },
              {
                "type": 3,
                "mapKey": [
                  {
                    "type": 1,
                    "string": "consentType"
                  },
                  {
                    "type": 1,
                    "string": "read"
                  },
                  {
                    "type": 1,
                    "string": "write"
                  }
                ],
                "mapValue": [
                  {
                    "type": 1,
                    "string": "analytics_storage"
                  },
                  {
                    "type": 8,
                    "boolean": false
                  },
                  {
                    "type": 8,
                    "boolean": true
                  }
                ]
              },
              {
                "type": 3,
                "mapKey": [
                  {
                    "type": 1,
                    "string": "consentType"
                  },
                  {
                    "type": 1,
                    "string": "read"
                  },
                  {
                    "type": 1,
                    "string": "write"
                  }
                ],
                "mapValue": [
                  {
                    "type": 1,
                    "string": "functionality_storage"
                  },
                  {
                    "type": 8,
                    "boolean": false
                  },
                  {
                    "type": 8,
                    "boolean": true
                  }
                ]
              },
              {
                "type": 3,
                "mapKey": [
                  {
                    "type": 1,
                    "string": "consentType"
                  },
                  {
                    "type": 1,
                    "string": "read"
                  },
                  {
                    "type": 1,
                    "string": "write"
                  }
                ],
                "mapValue": [
                  {
                    "type": 1,
                    "string": "personalization_storage"
                  },
                  {
                    "type": 8,
                    "boolean": false
                  },
                  {
                    "type": 8,
                    "boolean": true
                  }
                ]
              },
              {
                "type": 3,
                "mapKey": [
                  {
                    "type": 1,
                    "string": "consentType"
                  },
                  {
                    "type": 1,
                    "string": "read"
                  },
                  {
                    "type": 1,
                    "string": "write"
                  }
                ],
                "mapValue": [
                  {
                    "type": 1,
                    "string": "security_storage"
                  },
                  {
                    "type": 8,
                    "boolean": false
                  },
                  {
                    "type": 8,
                    "boolean": true
                  }
                ]
              }
            ]
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  },
  {
    "instance": {
      "key": {
        "publicId": "write_data_layer",
        "versionId": "1"
      },
      "param": [
        {
          "key": "keyPatterns",
          "value": {
            "type": 2,
            "listItem": [
              {
                "type": 1,
                "string": "url_passthrough"
              },
              {
                "type": 1,
                "string": "ads_data_redaction"
              }
            ]
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  },
  {
    "instance": {
      "key": {
        "publicId": "inject_script",
        "versionId": "1"
      },
      "param": [
        {
          "key": "urls",
          "value": {
            "type": 2,
            "listItem": [
              {
                "type": 1,
                "string": "https://*/sdk/v1/nexaguard.js*"
              }
            ]
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  },
  {
    "instance": {
      "key": {
        "publicId": "access_globals",
        "versionId": "1"
      },
      "param": [
        {
          "key": "keys",
          "value": {
            "type": 2,
            "listItem": [
              {
                "type": 3,
                "mapKey": [
                  {
                    "type": 1,
                    "string": "key"
                  },
                  {
                    "type": 1,
                    "string": "read"
                  },
                  {
                    "type": 1,
                    "string": "write"
                  },
                  {
                    "type": 1,
                    "string": "execute"
                  }
                ],
                "mapValue": [
                  {
                    "type": 1,
                    "string": "NexaGuard.on"
                  },
                  {
                    "type": 8,
                    "boolean": true
                  },
                  {
                    "type": 8,
                    "boolean": false
                  },
                  {
                    "type": 8,
                    "boolean": true
                  }
                ]
              }
            ]
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  },
  {
    "instance": {
      "key": {
        "publicId": "logging",
        "versionId": "1"
      },
      "param": [
        {
          "key": "environments",
          "value": {
            "type": 1,
            "string": "debug"
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  }
]


___TESTS___

scenarios:
- name: A first visit sets the defaults, region rows first, then loads the SDK for the site key
  code: |-
    runCode(mockData);
    assertApi('setDefaultConsentState').wasCalledWith({
      ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied',
      analytics_storage: 'denied', functionality_storage: 'denied',
      personalization_storage: 'denied', security_storage: 'granted',
      region: ['DE', 'FR'], wait_for_update: 500
    });
    assertApi('setDefaultConsentState').wasCalledWith({
      ad_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'granted',
      analytics_storage: 'granted', functionality_storage: 'granted',
      personalization_storage: 'granted', security_storage: 'granted',
      wait_for_update: 500
    });
    assertApi('gtagSet').wasCalledWith({url_passthrough: false, ads_data_redaction: true});
    assertThat(injected).isEqualTo(['https://cmp.example.com/sdk/v1/nexaguard.js?siteKey=' + siteKey]);
    listeners.ready(null);
    assertApi('updateConsentState').wasNotCalled();
    assertApi('gtmOnSuccess').wasCalled();
    assertApi('gtmOnFailure').wasNotCalled();
- name: A returning visitor's stored choice updates consent once the SDK reports it
  code: |-
    runCode(mockData);
    listeners.consent(storedChoice);
    listeners.ready(storedChoice);
    assertApi('updateConsentState').wasCalledWith(storedChoice.consentMode);
    assertThat(updates).isEqualTo(1);
- name: A listener that comes after the SDK was ready still gets the stored choice
  code: |-
    runCode(mockData);
    listeners.ready(storedChoice);
    assertApi('updateConsentState').wasCalledWith(storedChoice.consentMode);
- name: Each choice updates consent with its seven states
  code: |-
    runCode(mockData);
    listeners.ready(null);
    listeners.consent(storedChoice);
    assertApi('updateConsentState').wasCalledWith(storedChoice.consentMode);
    const rejected = {consentMode: {
      ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied',
      analytics_storage: 'denied', functionality_storage: 'denied',
      personalization_storage: 'denied', security_storage: 'granted'
    }};
    listeners.consent(rejected);
    assertApi('updateConsentState').wasCalledWith(rejected.consentMode);
    assertThat(updates).isEqualTo(2);
- name: An empty site key fails the tag and loads nothing, with the defaults still set
  code: |-
    mockData.siteKey = '';
    runCode(mockData);
    assertApi('gtmOnFailure').wasCalled();
    assertApi('gtmOnSuccess').wasNotCalled();
    assertApi('injectScript').wasNotCalled();
    assertApi('setDefaultConsentState').wasCalled();
- name: A server URL that is not https fails the tag and loads nothing
  code: |-
    mockData.serverUrl = 'http://cmp.example.com';
    runCode(mockData);
    assertApi('gtmOnFailure').wasCalled();
    assertApi('injectScript').wasNotCalled();
- name: A script that does not load fails the tag
  code: |-
    loads = false;
    runCode(mockData);
    assertApi('gtmOnFailure').wasCalled();
    assertApi('gtmOnSuccess').wasNotCalled();
- name: A row whose regions are all unusable is left out, not applied everywhere
  code: |-
    mockData.defaultSettings = [{region: 'Europe', ad_storage: 'granted', ad_user_data: 'granted',
      ad_personalization: 'granted', analytics_storage: 'granted', functionality_storage: 'granted',
      personalization_storage: 'granted', security_storage: 'granted'}];
    mockData.waitForUpdate = '0';
    runCode(mockData);
    assertThat(defaults).isEqualTo([{
      ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied',
      analytics_storage: 'denied', functionality_storage: 'denied',
      personalization_storage: 'denied', security_storage: 'denied'
    }]);
setup: |-
  const siteKey = 'ngp_0123456789abcdef0123456789abcdef';
  const mockData = {
    serverUrl: 'https://cmp.example.com',
    siteKey: siteKey,
    defaultSettings: [
      {region: '', ad_storage: 'granted', ad_user_data: 'granted', ad_personalization: 'granted',
        analytics_storage: 'granted', functionality_storage: 'granted',
        personalization_storage: 'granted', security_storage: 'granted'},
      {region: 'DE, FR', ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied',
        analytics_storage: 'denied', functionality_storage: 'denied',
        personalization_storage: 'denied', security_storage: 'granted'}
    ],
    waitForUpdate: '500',
    urlPassthrough: false,
    adsDataRedaction: true
  };
  const storedChoice = {categories: ['necessary', 'analytics'], consentMode: {
    ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied',
    analytics_storage: 'granted', functionality_storage: 'granted',
    personalization_storage: 'denied', security_storage: 'granted'
  }};
  const injected = [];
  const defaults = [];
  const listeners = {};
  let loads = true;
  let updates = 0;
  mock('injectScript', function (url, onSuccess, onFailure) {
    injected.push(url);
    if (loads) onSuccess(); else onFailure();
  });
  mock('copyFromWindow', function (key) {
    return key === 'NexaGuard.on' ? function () {} : undefined;
  });
  mock('callInWindow', function (path, event, callback) {
    if (path === 'NexaGuard.on') listeners[event] = callback;
  });
  mock('setDefaultConsentState', function (settings) {
    defaults.push(settings);
  });
  mock('updateConsentState', function () {
    updates++;
  });


___NOTES___

NexaGuard's documentation for this template: docs/gtm.md in the NexaGuard
repository. The template needs a NexaGuard SDK that reads its site key from
the siteKey parameter of its script URL.
