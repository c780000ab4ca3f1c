-- wrk script for the busy desk (bench/busy_desk.py): readers cycle through the story pages, with the home
-- page every 10th request, and count what the page cache answered (its X-Page-Cache header).
--
--     wrk -t2 -c16 -d10s -s bench/busy_desk.lua http://127.0.0.1:8000 -- paths.txt 2
--
-- paths.txt: the home page's path on the first line (bench/queue.py puts a section page's there, counted as
-- "home"), then one story page's path a line. The second
-- argument is the number of wrk threads: each thread starts at its own place in the list, so threads do
-- not ask for the same story at the same moment. done() prints one line of totals over all threads:
--     busy-desk story_hit=... story_miss=... home_hit=... home_miss=... other=...
-- A response is a story page if its head says og:type "article" (templates/jinja2/articles/detail.html):
-- wrk does not say which request a response answers.

local threads = {}

-- Readers at a steady pace instead of as fast as the server answers: with BENCH_READERS_PAUSE_MS set (bench/run.py
-- --readers-pause-ms), each connection waits that long before each request.
local pause = tonumber(os.getenv("BENCH_READERS_PAUSE_MS") or "")
if pause and pause > 0 then
   function delay()
      return pause
   end
end

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

local HOME_EVERY = 10
local STORY_MARK = 'og:type" content="article"'

function init(args)
   local paths = {}
   for line in io.lines(args[1]) do
      if line ~= "" then
         paths[#paths + 1] = line
      end
   end
   home = wrk.format("GET", paths[1])
   stories = {}
   for i = 2, #paths do
      stories[#stories + 1] = wrk.format("GET", paths[i])
   end
   local nthreads = tonumber(args[2] or "1")
   position = math.floor(#stories * id / nthreads)
   sent = 0
   story_hit, story_miss, home_hit, home_miss, other = 0, 0, 0, 0, 0
end

function request()
   sent = sent + 1
   if sent % HOME_EVERY == 0 then
      return home
   end
   position = position % #stories + 1
   return stories[position]
end

function response(status, headers, body)
   local answer = headers["X-Page-Cache"]
   if status ~= 200 or answer == nil then
      other = other + 1
   elseif string.find(body, STORY_MARK, 1, true) then
      if answer == "hit" then story_hit = story_hit + 1 else story_miss = story_miss + 1 end
   else
      if answer == "hit" then home_hit = home_hit + 1 else home_miss = home_miss + 1 end
   end
end

function done(summary, latency, requests)
   local totals = {story_hit = 0, story_miss = 0, home_hit = 0, home_miss = 0, other = 0}
   for _, thread in ipairs(threads) do
      for name, _ in pairs(totals) do
         totals[name] = totals[name] + thread:get(name)
      end
   end
   io.write(string.format("busy-desk story_hit=%d story_miss=%d home_hit=%d home_miss=%d other=%d\n",
      totals.story_hit, totals.story_miss, totals.home_hit, totals.home_miss, totals.other))
end
