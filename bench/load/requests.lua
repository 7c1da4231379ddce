-- wrk script for bench/load.sh.
--
-- LOAD_PATHS (environment): a file of request targets, one per line (for example
-- "/v1/search?q=..."). Each wrk thread sends them round-robin, starting at the first line.
-- Without LOAD_PATHS, wrk sends the URL given on its command line, as it does with no script.
--
-- At the end one machine-readable line is printed:
--   RESULT requests=N seconds=S rps=X p50_us=Y p99_us=Z mean_us=M max_us=W non2xx=E socket_errors=F
-- non2xx counts answers with a status >= 400 (wrk's "Non-2xx or 3xx responses"); socket_errors
-- is connect + read + write + timeout errors.

local file = os.getenv("LOAD_PATHS")

if file and file ~= "" then
   local paths = {}
   local fh = assert(io.open(file, "r"))
   for line in fh:lines() do
      if line ~= "" then
         paths[#paths + 1] = line
      end
   end
   fh:close()
   assert(#paths > 0, "no request targets in " .. file)

   local i = 0
   request = function()
      i = i % #paths + 1
      return wrk.format("GET", paths[i])
   end
end

done = function(summary, latency, requests)
   local e = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      "RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d mean_us=%.1f max_us=%d non2xx=%d socket_errors=%d\n",
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50), latency:percentile(99), latency.mean, latency.max,
      e.status, e.connect + e.read + e.write + e.timeout))
end
