-- POST a receipt of one unit: on a random level of the dataset (BENCH_LEVEL=random) or on
-- the one hot level (hot: branch 1, product 1); with a unique Idempotency-Key per request
-- when BENCH_IDEMPOTENT=1 (thread id, counter and a random number).
local common = dofile(os.getenv("BENCH_DIR") .. "/common.lua")
local ids = common.ids
local hot = os.getenv("BENCH_LEVEL") == "hot"
local idempotent = os.getenv("BENCH_IDEMPOTENT") == "1"
local path = os.getenv("BENCH_PATH")
local sent = 0

setup = common.setup
done = common.done

function init(args)
  common.init()
  wrk.headers["Authorization"] = "Token " .. ids.token
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local branch, product = ids.branches[1], ids.products[1]
  if not hot then
    branch = ids.branches[math.random(#ids.branches)]
    product = ids.products[math.random(#ids.products)]
  end
  -- wrk.format takes these instead of wrk.headers, not on top of them.
  local headers = {}
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  if idempotent then
    sent = sent + 1
    headers["Idempotency-Key"] = string.format(
      "bench-%d-%d-%d", thread_id, sent, math.random(1000000000))
  end
  local body = string.format(
    '{"branch": "%s", "product": "%s", "quantity": "1"}', branch, product)
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  common.response(status)
end
