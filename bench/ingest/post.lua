-- wrk script for bench/ingest: posts distinct valid consent events for the
-- demo site and counts the 201 answers (durably recorded consents).
--
--   wrk -t2 -c32 -d10s --latency -s post.lua https://localhost:18443 -- \
--       SITE_KEY ORIGIN TIMESTAMP RUN_ID
--
-- SITE_KEY   the demo site's production key (ngp_..., on the /demo/ page)
-- ORIGIN     one of the site's origins, e.g. https://localhost:18443
-- TIMESTAMP  RFC 3339, taken once by the caller; the server refuses events
--            more than 10 minutes ahead of its clock or older than 30 days
-- RUN_ID     8 hex digits, different per run, so event ids never repeat
--
-- Every request has its own eventId: RUN_ID, the thread number and a
-- per-thread counter, in UUID form. A repeated id would be answered 201 as
-- an idempotent replay without storing anything: such answers (header
-- idempotent-replayed) are counted apart, never as consents.

local threads = {}
local next_thread = 0

function setup(thread)
   next_thread = next_thread + 1
   thread:set("thread_no", next_thread)
   table.insert(threads, thread)
end

-- The three bodies the demo banner can send (see
-- crates/server/assets/demo-site.json): opt-in categories, no IAB purposes
-- or vendors, no TC string.
local choices = {
   { action = "accept_all",
     purposes = '["necessary","analytics","marketing"]', vendors = '["demo-analytics"]',
     analytics = "granted", ads = "granted" },
   { action = "reject_all",
     purposes = '["necessary"]', vendors = '[]',
     analytics = "denied", ads = "denied" },
   { action = "custom",
     purposes = '["necessary","analytics"]', vendors = '["demo-analytics"]',
     analytics = "granted", ads = "denied" },
}

function init(args)
   site_key = args[1] or error("post.lua: SITE_KEY argument missing")
   origin = args[2] or error("post.lua: ORIGIN argument missing")
   timestamp = args[3] or error("post.lua: TIMESTAMP argument missing")
   run_id = args[4] or error("post.lua: RUN_ID argument missing")
   counter = 0
   created = 0
   replayed = 0
   statuses = {}
   headers = {
      ["Content-Type"] = "application/json",
      ["Origin"] = origin,
      ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
   }
end

function request()
   counter = counter + 1
   local event_id = string.format("%s-%04x-4000-8000-%012x", run_id, thread_no, counter)
   local c = choices[(counter % 3) + 1]
   local body = '{"eventId":"' .. event_id .. '","schemaVersion":1,'
      .. '"siteKey":"' .. site_key .. '","environment":"production","configVersion":1,'
      .. '"timestamp":"' .. timestamp .. '","action":"' .. c.action .. '","source":"banner",'
      .. '"consentMode":{"ad_storage":"' .. c.ads .. '","ad_user_data":"' .. c.ads .. '",'
      .. '"ad_personalization":"' .. c.ads .. '","analytics_storage":"' .. c.analytics .. '",'
      .. '"functionality_storage":"granted","personalization_storage":"denied",'
      .. '"security_storage":"granted"},'
      .. '"customPurposes":' .. c.purposes .. ',"customVendors":' .. c.vendors .. ','
      .. '"language":"en","sdkVersion":"bench-1"}'
   return wrk.format("POST", "/v1/consents", headers, body)
end

function response(status, headers, body)
   if status == 201 and (headers["idempotent-replayed"] or headers["Idempotent-Replayed"]) then
      -- A retry of a recorded event: nothing new was stored. Cannot happen
      -- with distinct event ids; counted apart so that it could never
      -- inflate the figure.
      replayed = replayed + 1
   elseif status == 201 then
      created = created + 1
   else
      statuses[status] = (statuses[status] or 0) + 1
      -- Show the first refusal: a wrong body makes every request fail alike.
      if not shown and body then
         shown = true
         io.stderr:write("post.lua: first non-201 answer: " .. status .. " " .. body .. "\n")
      end
   end
end

function done(summary, latency, requests)
   local ok, others, breakdown = 0, 0, {}
   for _, thread in ipairs(threads) do
      ok = ok + thread:get("created")
      local r = thread:get("replayed")
      if r > 0 then
         others = others + r
         breakdown["201-replayed"] = (breakdown["201-replayed"] or 0) + r
      end
      for status, n in pairs(thread:get("statuses")) do
         others = others + n
         breakdown[status] = (breakdown[status] or 0) + n
      end
   end
   local seconds = summary.duration / 1e6
   local parts = {}
   for status, n in pairs(breakdown) do
      table.insert(parts, status .. ":" .. n)
   end
   io.write(string.format(
      "RESULT ok=%d others=%d errors=%d seconds=%.3f ok_per_s=%.1f p50_ms=%.3f p99_ms=%.3f statuses=%s\n",
      ok, others,
      summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
      seconds, ok / seconds,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      #parts > 0 and table.concat(parts, ",") or "-"))
end
