-- wrk script: keep-alive announces over 50k sessions of 5k users on 10k
-- torrents, with mixed events. Passkeys and info_hashes match the rows that
-- scripts/bench-tracker.sh inserts: passkey = %032x of the user id,
-- info_hash = the torrent id as 20 ASCII digits.
-- Environment: BENCH_PATH=passkey (default, /PASSKEY/announce) or plain
-- (/announce, for opentracker); BENCH_RATE: requests per second of each wrk
-- thread (0: closed loop, as fast as the target answers).
--
-- Pacing (wrk2-style constant throughput, since Debian's wrk has no -R): each
-- thread keeps an absolute schedule of send times, one every 1/BENCH_RATE s,
-- read from CLOCK_MONOTONIC through LuaJIT's ffi; delay() returns the wait
-- until the connection's slot. wrk's timer has whole milliseconds, so a
-- request may leave up to 1 ms late, but the schedule never drifts: the
-- achieved rate is the asked rate as long as a connection is free. Latency
-- is still wrk's (from the write to the answer), not from the slot.
local mode = os.getenv("BENCH_PATH") or "passkey"
local rate = tonumber(os.getenv("BENCH_RATE") or "0")
local counter = 0

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } rg_timespec;
int clock_gettime(int clk_id, rg_timespec *tp);
]]
local ts = ffi.new("rg_timespec")
local function now()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end
local next_slot = nil

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  math.randomseed(os.time() + id * 7919)
  uploaded = {}
end

-- Only a paced run defines delay(): wrk then puts every request on a timer.
if rate > 0 then
function delay()
  local t = now()
  if next_slot == nil or next_slot < t - 0.05 then
    -- start, or more than 50 ms behind (the target stalled): do not burst
    -- to catch up, restart the schedule from now
    next_slot = t
  end
  local slot = next_slot
  next_slot = next_slot + 1 / rate
  local wait = (slot - t) * 1000
  if wait <= 0 then
    return 0
  end
  return math.ceil(wait)
end
end

local events = { "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "started", "completed", "stopped", "" }

function request()
  local s = math.random(0, 49999)
  local user = s % 5000 + 1
  -- the 10 sessions of a member are on 10 different torrents
  local torrent = ((s % 5000) * 2 + math.floor(s / 5000) * 1001) % 10000 + 1
  local up = (uploaded[s] or 0) + math.random(0, 1048576)
  uploaded[s] = up
  local ev = events[math.random(1, #events)]
  local left = 0
  if s % 3 == 0 then left = 1048576 end
  local q = string.format("info_hash=%020d&peer_id=-qB4650-%012d&port=%d&uploaded=%d&downloaded=0&left=%d&corrupt=0&key=%08x&numwant=50&compact=1&no_peer_id=1&supportcrypto=1",
    torrent, s, 10000 + s % 50000, up, left, s)
  if ev ~= "" then q = q .. "&event=" .. ev end
  local path
  if mode == "plain" then
    path = "/announce?" .. q
  else
    path = string.format("/%032x/announce?", user) .. q
  end
  return wrk.format("GET", path, { ["User-Agent"] = "qBittorrent/4.6.5" })
end
