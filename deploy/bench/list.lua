-- GET a list or page. BENCH_PATH is the address, with these placeholders filled per
-- request: {page} a random page number (1..BENCH_PAGES), {offset} that page's offset
-- (BENCH_PER_PAGE a page), {word} a random search word (BENCH_WORDS, comma-separated),
-- {sort} a random sort key (BENCH_SORTS). With BENCH_PAGING=cursor the API has no page
-- numbers: each thread follows the "next" links the answers give, from BENCH_PATH on (a
-- JSON "next", or a page's <a rel="next" href>, relative to BENCH_PATH's path).
-- BENCH_AUTH is "token" (the API) or "session" (the pages, with the session cookie).
local common = dofile(os.getenv("BENCH_DIR") .. "/common.lua")
local ids = common.ids
local path = os.getenv("BENCH_PATH")
local pages = tonumber(os.getenv("BENCH_PAGES") or "1")
local per_page = tonumber(os.getenv("BENCH_PER_PAGE") or "50")
local cursor = os.getenv("BENCH_PAGING") == "cursor"

local function split(text)
  local items = {}
  for item in string.gmatch(text or "", "[^,]+") do
    table.insert(items, item)
  end
  return items
end

local words = split(os.getenv("BENCH_WORDS"))
local sorts = split(os.getenv("BENCH_SORTS"))
local next_path = nil

setup = common.setup
done = common.done

function init(args)
  common.init()
  if os.getenv("BENCH_AUTH") == "session" then
    wrk.headers["Cookie"] = "sessionid=" .. ids.session
  else
    wrk.headers["Authorization"] = "Token " .. ids.token
  end
end

function request()
  if cursor and next_path then
    return wrk.format("GET", next_path)
  end
  local page = math.random(pages)
  -- Replaced by functions: a replacement string would read "%20" as a capture.
  local address = path
    :gsub("{page}", function() return tostring(page) end)
    :gsub("{offset}", function() return tostring((page - 1) * per_page) end)
    :gsub("{word}", function() return words[math.random(#words)] or "" end)
    :gsub("{sort}", function() return sorts[math.random(#sorts)] or "" end)
  return wrk.format("GET", address)
end

function response(status, headers, body)
  common.response(status)
  if cursor then
    -- The next page's address, without scheme and host; back to the first at the end.
    local link = body and string.match(body, '"next"%s*:%s*"([^"]+)"')
    if not link and body then
      link = string.match(body, 'rel="next" href="([^"]+)"')
      link = link and link:gsub("&amp;", "&")
      if link and link:sub(1, 1) == "?" then
        link = string.match(path, "^[^?]*") .. link
      end
    end
    next_path = link and (string.match(link, "^https?://[^/]+(/.*)$") or link) or nil
  end
end
