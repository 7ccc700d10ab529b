// The admin console's one script: progressive enhancement only; every page
// works with forms alone.
'use strict';

(function () {
  // The preview frame: start the configuration request the SDK would make,
  // against the draft endpoint (with the session cookie), under the URL the
  // SDK looks for (sdk/src/configurl.ts builds it the same way). The SDK
  // script comes after this one and takes the request over.
  var preview = document.querySelector('meta[name="nexaguard-preview"]');
  var sdk = document.querySelector('script[data-site-key]');
  if (preview && sdk) {
    // The language as the SDK picks it: one chosen in its switcher before,
    // else the page's <html lang> (the preview's Language field), else the
    // browser's. A language chosen in the Language field wins: the SDK's
    // remembered one is forgotten.
    var nav = window.navigator || {};
    var pageLang = document.documentElement.lang;
    var stored = null;
    try {
      if (pageLang) window.localStorage.removeItem('nexaguard-language');
      stored = window.localStorage.getItem('nexaguard-language');
    } catch (e) {
      stored = null;
    }
    var lang = (stored || pageLang || (nav.languages && nav.languages[0]) || nav.language || '').toLowerCase();
    var query = lang ? '?lang=' + encodeURIComponent(lang) : '';
    var base = new URL(sdk.src, window.location.href).origin;
    var key = sdk.getAttribute('data-site-key');
    window.__nexaguardConfig = {
      u: base + '/v1/sites/' + encodeURIComponent(key) + '/config.json' + query,
      p: fetch(preview.getAttribute('content') + query, { credentials: 'same-origin' }),
    };
  }

  // Enter in the editor's region preview field previews the region, as
  // its button does; without this script Enter saves, the form's default.
  var regionField = document.getElementById('f-previewRegion');
  var regionButton = document.getElementById('preview-region');
  if (regionField && regionButton) {
    regionField.addEventListener('keydown', function (event) {
      if (event.key === 'Enter') {
        event.preventDefault();
        regionButton.click();
      }
    });
  }

  // Vendors ticked in the old results but not saved yet stay in the form.
  function keepTicked(old, fresh) {
    var list = fresh.querySelector('ul');
    if (!list) {
      list = document.createElement('ul');
      list.className = 'checks';
      list.setAttribute('aria-label', 'Search results');
      fresh.appendChild(list);
    }
    old.querySelectorAll('input[name="vendor"]:checked').forEach(function (box) {
      if (!fresh.querySelector('input[name="vendor"][value="' + box.value + '"]')) {
        list.appendChild(box.closest('li'));
      }
    });
  }

  // The vendor picker: search without leaving the page, so that unsaved
  // edits stay; the results replace the old ones in place.
  var picker = document.getElementById('picker');
  if (picker) {
    picker.addEventListener('submit', function (event) {
      event.preventDefault();
      var params = new URLSearchParams(new FormData(picker));
      var url = picker.action + '?' + params.toString();
      fetch(url, { credentials: 'same-origin' })
        .then(function (r) {
          if (!r.ok) throw new Error('search answered ' + r.status);
          return r.text();
        })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, 'text/html');
          var fresh = doc.getElementById('vendor-results');
          var old = document.getElementById('vendor-results');
          if (fresh && old) {
            fresh = document.importNode(fresh, true);
            keepTicked(old, fresh);
            old.replaceWith(fresh);
          }
          window.history.replaceState(null, '', url);
        })
        .catch(function () {
          // Fall back to the plain GET.
          window.location.href = url;
        });
    });
  }
})();
