-- wrk script for bench/ingest: fetches the demo site's config.json and
-- counts the 200 answers.
--
--   wrk -t2 -c32 -d10s --latency -s get.lua https://localhost:18443 -- SITE_KEY
--
-- No Accept-Encoding is sent, so the server answers the uncompressed body,
-- the same bytes the echo baseline serves (run.sh hands them to it).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   local site_key = args[1] or error("get.lua: SITE_KEY argument missing")
   ok_count = 0
   statuses = {}
   req = wrk.format("GET", "/v1/sites/" .. site_key .. "/config.json")
end

function request()
   return req
end

function response(status, headers, body)
   if status == 200 then
      ok_count = ok_count + 1
   else
      statuses[status] = (statuses[status] or 0) + 1
   end
end

function done(summary, latency, requests)
   local ok, others, breakdown = 0, 0, {}
   for _, thread in ipairs(threads) do
      ok = ok + thread:get("ok_count")
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
