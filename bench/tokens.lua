-- wrk script of bench/load.sh's many-tokens mode: each request carries the next token of the
-- file $TOKENS (one a line), cycling; `wrk ... -s bench/tokens.lua -- START` begins at line
-- START + 1 (the warm-up and the measured run start at different places, so that with many
-- tokens the measured run does not replay the warm-up's).
local requests = {}
for token in io.lines(os.getenv("TOKENS")) do
    requests[#requests + 1] = wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. token })
end
assert(#requests > 0, "no tokens in " .. tostring(os.getenv("TOKENS")))
local next = 0

function init(args)
    next = (tonumber(args[1]) or 0) % #requests
end

function request()
    next = next % #requests + 1
    return requests[next]
end
