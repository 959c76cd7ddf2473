-- wrk script: keep-alive announces over 50k sessions of 5k users on 10k
-- torrents, with mixed events. Passkeys and info_hashes match the rows that
-- scripts/bench-tracker.sh inserts: passkey = %032x of the user id,
-- info_hash = the torrent id as 20 ASCII digits.
-- Environment: BENCH_PATH=passkey (default, /PASSKEY/announce) or plain
-- (/announce, for opentracker); BENCH_DELAY_MS: pause between requests of a
-- connection (rate-limited run for latency at a fixed load).
local mode = os.getenv("BENCH_PATH") or "passkey"
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  math.randomseed(os.time() + id * 7919)
  uploaded = {}
end

function delay()
  return delay_ms
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
