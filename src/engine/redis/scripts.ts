/**
 * Lua scripts: each runs atomically in Redis, in one round trip. Numbers travel as decimal strings;
 * offsets are formatted with `%d` (Lua's default number format would switch to exponent notation).
 */

/**
 * Publish: idempotency check, offset and epoch, stream append (MAXLEN, TTL), meta TTL and the
 * PUB/SUB message, all at once, so a publication's place in history and its delivery agree.
 *
 * KEYS: stream, meta, idempotency result.
 * ARGV: PUB/SUB channel, body (`<header>\n<data>`), history size, history TTL ms, meta TTL ms,
 * epoch for a new stream, idempotent result TTL ms ("0" = no idempotency key).
 * Returns `{suppressed (0|1), "<offset>:<epoch>"}`.
 */
export const PUBLISH_LUA = `
local idem_ttl = tonumber(ARGV[7])
if idem_ttl > 0 then
  local prev = redis.call('get', KEYS[3])
  if prev then return {1, prev} end
end
local size = tonumber(ARGV[3])
local offset = '0'
local epoch = ''
if size > 0 then
  epoch = redis.call('hget', KEYS[2], 'e')
  if not epoch then
    epoch = ARGV[6]
    redis.call('hset', KEYS[2], 'e', epoch)
    redis.call('del', KEYS[1])
  end
  offset = string.format('%d', redis.call('hincrby', KEYS[2], 's', 1))
  local meta_ttl = tonumber(ARGV[5])
  if meta_ttl > 0 then redis.call('pexpire', KEYS[2], meta_ttl) end
end
local msg = 'p' .. offset .. ':' .. epoch .. ':' .. ARGV[2]
if size > 0 then
  redis.call('xadd', KEYS[1], 'MAXLEN', size, offset .. '-0', 'd', msg)
  redis.call('pexpire', KEYS[1], ARGV[4])
end
redis.call('publish', ARGV[1], msg)
local res = offset .. ':' .. epoch
if idem_ttl > 0 then redis.call('set', KEYS[3], res, 'PX', idem_ttl) end
return {0, res}
`;

/**
 * History read: the stream position (creating the epoch if the stream is new, extending the meta
 * TTL) and, unless limit is 0, the publications after / before `since`.
 *
 * KEYS: stream, meta. ARGV: epoch for a new stream, meta TTL ms, limit (0 none, -1 all), since
 * offset (0 = from the start), reverse ("1"/"0").
 * Returns `{top offset, epoch, entries}` with entries as XRANGE returns them.
 */
export const HISTORY_LUA = `
local epoch = redis.call('hget', KEYS[2], 'e')
if not epoch then
  epoch = ARGV[1]
  redis.call('hset', KEYS[2], 'e', epoch)
  redis.call('del', KEYS[1])
end
local top = redis.call('hget', KEYS[2], 's') or '0'
local meta_ttl = tonumber(ARGV[2])
if meta_ttl > 0 then redis.call('pexpire', KEYS[2], meta_ttl) end
local limit = tonumber(ARGV[3])
if limit == 0 then return {top, epoch, {}} end
local since = tonumber(ARGV[4])
local entries
if ARGV[5] == '1' then
  local hi = '+'
  if since > 0 then hi = string.format('%d', since - 1) end
  if limit > 0 then
    entries = redis.call('xrevrange', KEYS[1], hi, '-', 'COUNT', limit)
  else
    entries = redis.call('xrevrange', KEYS[1], hi, '-')
  end
else
  local lo = '-'
  if since > 0 then lo = string.format('%d', since + 1) end
  if limit > 0 then
    entries = redis.call('xrange', KEYS[1], lo, '+', 'COUNT', limit)
  else
    entries = redis.call('xrange', KEYS[1], lo, '+')
  end
end
return {top, epoch, entries}
`;

/**
 * Adds or refreshes a presence entry. KEYS: expire zset, data hash.
 * ARGV: key TTL ms, entry expiry (ms since epoch), client id, info.
 */
export const PRESENCE_ADD_LUA = `
redis.call('zadd', KEYS[1], ARGV[2], ARGV[3])
redis.call('hset', KEYS[2], ARGV[3], ARGV[4])
redis.call('pexpire', KEYS[1], ARGV[1])
redis.call('pexpire', KEYS[2], ARGV[1])
return 1
`;

/** Removes a presence entry. KEYS: expire zset, data hash. ARGV: client id. */
export const PRESENCE_REMOVE_LUA = `
redis.call('hdel', KEYS[2], ARGV[1])
redis.call('zrem', KEYS[1], ARGV[1])
return 1
`;

/** Drops entries expired at ARGV[1] (ms since epoch); shared head of the two reads below. */
const PRESENCE_CLEAN = `
local expired = redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[1])
if #expired > 0 then
  for i = 1, #expired, 1000 do
    redis.call('hdel', KEYS[2], unpack(expired, i, math.min(i + 999, #expired)))
  end
  redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1])
end
`;

/** Presence: the live entries as HGETALL returns them. KEYS: expire zset, data hash. ARGV: now ms. */
export const PRESENCE_GET_LUA = `${PRESENCE_CLEAN}
return redis.call('hgetall', KEYS[2])
`;

/** Presence stats: `{clients, distinct users}`. KEYS: expire zset, data hash. ARGV: now ms. */
export const PRESENCE_STATS_LUA = `${PRESENCE_CLEAN}
local values = redis.call('hvals', KEYS[2])
local users = {}
local num_users = 0
for _, v in ipairs(values) do
  local ok, info = pcall(cjson.decode, v)
  local user = ''
  if ok and type(info) == 'table' and type(info['u']) == 'string' then user = info['u'] end
  if not users[user] then
    users[user] = true
    num_users = num_users + 1
  end
end
return {#values, num_users}
`;
