-- wrk script for bench/ingest: posts distinct valid consent events and
-- counts the 201 answers (durably recorded consents).
--
--   wrk -t2 -c32 -d10s --latency -s post.lua https://localhost:18443 -- \
--       EVENTS_FILE ORIGIN RUN_ID
--
-- EVENTS_FILE  event templates, one JSON body per line, written by
--              events.py from the site's config.json; "@EVENT_ID@" marks
--              where the event id goes
-- ORIGIN       one of the site's origins, e.g. https://localhost:18443
-- RUN_ID       8 hex digits, different for every wrk run
--
-- Every request has its own eventId: RUN_ID, the wrk thread number and a
-- per-thread counter, in UUID form. A repeated id would be answered 201 as
-- an idempotent replay without storing anything: such answers (header
-- idempotent-replayed) are counted apart, never as consents. The templates
-- are used in turn (accept all, reject all, custom).

local threads = {}
local next_thread = 0

function setup(thread)
   next_thread = next_thread + 1
   thread:set("thread_no", next_thread)
   table.insert(threads, thread)
end

function init(args)
   local file = args[1] or error("post.lua: EVENTS_FILE argument missing")
   local origin = args[2] or error("post.lua: ORIGIN argument missing")
   run_id = args[3] or error("post.lua: RUN_ID argument missing")
   -- Each template split around the placeholder once, so that a request
   -- costs two concatenations.
   templates = {}
   for line in io.lines(file) do
      local at = line:find("@EVENT_ID@", 1, true)
      if at then
         table.insert(templates, { line:sub(1, at - 1), line:sub(at + 10) })
      end
   end
   if #templates == 0 then
      error("post.lua: no event template in " .. file)
   end
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
   local t = templates[(counter % #templates) + 1]
   return wrk.format("POST", "/v1/consents", headers, t[1] .. event_id .. t[2])
end

function response(status, headers, body)
   if status == 201 and (headers["idempotent-replayed"] or headers["Idempotent-Replayed"]) then
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
