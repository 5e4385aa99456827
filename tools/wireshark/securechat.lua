-- Wireshark dissector for Parley's securechat (spec/securechat/spec.md): one JSON object per WebSocket
-- message. Wireshark's WebSocket dissector unmasks the frames and hands each text payload to this one:
-- on port 8765 through the "ws.port" table, and on any port through a heuristic that recognises the
-- "_command" envelope (§4.1). Signatures and encrypted texts are shown by length; they are hex of RSA
-- blocks that only their recipients can use.

-- The helpers the five dissectors share, from parley_common.lua next to this file (why _G: see there).
local common = _G.parley_common or dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "") ..
    "parley_common.lua")
if not common.first_registration("securechat") then return end -- however often this file is loaded

local sc = Proto("securechat", "Parley securechat protocol")

local add = common.add

local LIMITS = { depth = 16, id = 64, name = 32, text = 131072, hex = 2048 } -- §3.2

local CLIENT_TYPES = { JoinMessage = true, LeaveMessage = true, PublicMessage = true, PrivateMessage = true }
local SERVER_TYPES = { RoutedPrivateMessage = true, RoutedPublicMessage = true, WelcomeMessage = true,
                       AddUserMessage = true, RemoveUserMessage = true }

local F = {
    direction = ProtoField.string("securechat.direction", "Direction"),
    command = ProtoField.string("securechat.command", "_command"),
    id = ProtoField.string("securechat.id", "id"),
    name = ProtoField.string("securechat.name", "name"),
    signature = ProtoField.string("securechat.signature", "signature"),
    signature_len = ProtoField.uint32("securechat.signature_len", "Signature length (bytes)", base.DEC),
    text = ProtoField.string("securechat.text", "text"),
    to_name = ProtoField.string("securechat.to_name", "to_name"),
    from_name = ProtoField.string("securechat.from_name", "from_name"),
    encrypted_text = ProtoField.string("securechat.encrypted_text", "encrypted_text"),
    encrypted_len = ProtoField.uint32("securechat.encrypted_text_len", "Encrypted text length (bytes)", base.DEC),
    public_key = ProtoField.string("securechat.public_key", "public_key"),
    ref_message_id = ProtoField.string("securechat.ref_message_id", "ref_message_id"),
    users = ProtoField.uint32("securechat.users", "Users listed", base.DEC),
    user = ProtoField.string("securechat.user", "User"),
    unknown_member = ProtoField.string("securechat.unknown_member", "Member this message type does not have"),
    rule = ProtoField.string("securechat.rule", "Broken rule"),
}
sc.fields = F

local broken = ProtoExpert.new("securechat.rule_broken", "securechat rule broken", expert.group.PROTOCOL,
    expert.severity.WARN)
local malformed = ProtoExpert.new("securechat.malformed", "securechat message malformed", expert.group.MALFORMED,
    expert.severity.WARN)
local advice = ProtoExpert.new("securechat.note", "securechat note", expert.group.COMMENTS_GROUP,
    expert.severity.NOTE)
sc.experts = { broken, malformed, advice }
local flag_rule = common.rule_flagger(F.rule, broken)

-- ---------------------------------------------------------------------------------------------- JSON

-- A JSON reader (RFC 8259) that also records where each top-level member's value lies, so the tree can
-- highlight it. Errors are raised as tables, told apart from bugs in this file.
local NULL = setmetatable({}, { __tostring = function() return "null" end })
local ESCAPES = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local function utf8_char(cp)
    if cp < 0x80 then return string.char(cp) end
    if cp < 0x800 then return string.char(0xC0 + math.floor(cp / 0x40), 0x80 + cp % 0x40) end
    if cp < 0x10000 then
        return string.char(0xE0 + math.floor(cp / 0x1000), 0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
    end
    return string.char(0xF0 + math.floor(cp / 0x40000), 0x80 + math.floor(cp / 0x1000) % 0x40,
        0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
end

local function read_json(s)
    local pos = 1
    local function fail(what) error({ json = what .. " at byte " .. (pos - 1) }, 0) end
    local function skip() pos = s:find("[^ \t\r\n]", pos) or (#s + 1) end

    local function read_string()
        local out = {}
        pos = pos + 1
        while true do
            local j = s:find('[%c"\\]', pos)
            if not j then fail("unterminated string") end
            out[#out + 1] = s:sub(pos, j - 1)
            pos = j
            local c = s:sub(j, j)
            if c == '"' then
                pos = pos + 1
                return table.concat(out)
            elseif c == "\\" then
                local e = s:sub(pos + 1, pos + 1)
                if ESCAPES[e] then
                    out[#out + 1] = ESCAPES[e]
                    pos = pos + 2
                elseif e == "u" then
                    local cp = tonumber(s:match("^%x%x%x%x", pos + 2) or "", 16)
                    if not cp then fail("bad \\u escape") end
                    pos = pos + 6
                    if cp >= 0xDC00 and cp <= 0xDFFF then fail("unpaired surrogate (SC-MSG-03)") end
                    if cp >= 0xD800 and cp <= 0xDBFF then
                        local low = tonumber(s:match("^\\u(%x%x%x%x)", pos) or "", 16)
                        if not low or low < 0xDC00 or low > 0xDFFF then fail("unpaired surrogate (SC-MSG-03)") end
                        cp = 0x10000 + (cp - 0xD800) * 0x400 + (low - 0xDC00)
                        pos = pos + 6
                    end
                    out[#out + 1] = utf8_char(cp)
                else
                    fail("bad escape")
                end
            elseif c:byte() == 0x7F then
                out[#out + 1] = c
                pos = pos + 1
            else
                fail("control character inside a string")
            end
        end
    end

    local read_value
    local function read_container(depth, close)
        if depth > LIMITS.depth then fail("nested deeper than " .. LIMITS.depth) end
        local result, members = {}, {}
        pos = pos + 1
        skip()
        if s:sub(pos, pos) == close then
            pos = pos + 1
            return result, members
        end
        while true do
            skip()
            local key
            if close == "}" then
                if s:sub(pos, pos) ~= '"' then fail("expected a member name") end
                key = read_string()
                skip()
                if s:sub(pos, pos) ~= ":" then fail("expected ':'") end
                pos = pos + 1
                skip()
            end
            local start = pos
            local v = read_value(depth)
            if close == "}" then
                result[key] = v
                members[#members + 1] = { key = key, value = v, start = start - 1, length = pos - start }
            else
                result[#result + 1] = v
            end
            skip()
            local c = s:sub(pos, pos)
            pos = pos + 1
            if c == close then return result, members end
            if c ~= "," then fail("expected ',' or '" .. close .. "'") end
        end
    end

    function read_value(depth)
        skip()
        local c = s:sub(pos, pos)
        if c == "{" then
            local obj, members = read_container(depth + 1, "}")
            return setmetatable(obj, { members = members, kind = "object" })
        elseif c == "[" then
            return setmetatable((read_container(depth + 1, "]")), { kind = "array" })
        elseif c == '"' then
            return read_string()
        end
        for word, v in pairs({ ["true"] = true, ["false"] = false, null = NULL }) do
            if s:sub(pos, pos + #word - 1) == word then
                pos = pos + #word
                return v
            end
        end
        local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
        if num and tonumber(num) then
            pos = pos + #num
            return tonumber(num)
        end
        fail(c == "" and "unexpected end" or "unexpected '" .. c .. "'")
    end

    local value = read_value(0)
    skip()
    if pos <= #s then fail("text after the JSON value") end
    return value
end

local function kind(v)
    local mt = type(v) == "table" and getmetatable(v)
    if v == NULL then return "null" end
    if mt then return mt.kind end
    return type(v)
end

-- ---------------------------------------------------------------------------------------------- state

-- Which end of each connection is the client: the one that speaks first (SC-JOIN-01: the server says
-- nothing before the join), unless the first message's type says otherwise. Server ids seen so far per
-- connection (SC-MSG-02), with the first pass's verdict kept per message for later visits.
local client_end, server_ids, repeated_id, known = {}, {}, {}, {}

function sc.init()
    client_end, server_ids, repeated_id, known = {}, {}, {}, {}
end

-- ---------------------------------------------------------------------------------------------- fields

local function valid_name(v)
    return type(v) == "string" and #v >= 1 and #v <= LIMITS.name and v:match("^[A-Za-z0-9_.-]+$") ~= nil
        and v:sub(1, 1) ~= "."
end

local function valid_hex(v)
    return type(v) == "string" and #v > 0 and #v % 2 == 0 and #v <= LIMITS.hex and v:match("^%x+$") ~= nil
end

local function characters(v) -- UTF-8: every byte that does not continue a character starts one
    return select(2, v:gsub("[^\128-\191]", ""))
end

-- The fields each type carries after _command and id (§4.2), and how to show and check each.
local LAYOUT = {
    JoinMessage = { "name", "signature" },
    LeaveMessage = {},
    PublicMessage = { "text" },
    PrivateMessage = { "to_name", "encrypted_text" },
    RoutedPrivateMessage = { "to_name", "encrypted_text", "from_name" },
    RoutedPublicMessage = { "text", "from_name" },
    WelcomeMessage = { "users" },
    AddUserMessage = { "name", "public_key" },
    RemoveUserMessage = { "name" },
    ErrorMessage = { "text", "ref_message_id" },
}

local function dissect_message(tvb, pinfo, tree, summaries)
    local t = tree:add(sc, tvb())
    local rules = {}
    local function broke(rule, text, expert_kind)
        flag_rule(t, rules, rule, text, expert_kind)
    end
    local function finish(summary)
        summaries[#summaries + 1] = common.summarize(t, summary, rules)
    end

    local ok, msg = pcall(read_json, tvb:raw())
    if not ok and type(msg) ~= "table" then error(msg, 0) end -- a bug here, not in the message
    local command = ok and kind(msg) == "object" and msg._command
    local server_only = type(command) == "string" and SERVER_TYPES[command]
    local client, key = common.from_client(client_end, pinfo, server_only)
    local dir = common.direction(not client)
    add(t, F.direction, dir):set_generated()
    if not ok then
        broke("SC-MSG-03", "not valid JSON: " .. msg.json, malformed)
        return finish(dir .. " invalid JSON")
    elseif kind(msg) ~= "object" then
        broke("SC-MSG-03", "a message is a JSON object, this is a JSON " .. kind(msg), malformed)
        return finish(dir .. " not a JSON object")
    end

    local members = {}
    for _, m in ipairs(getmetatable(msg).members) do members[m.key] = m end -- the last of a repeated name counts
    local function range(name)
        local m = members[name]
        return m and m.length > 0 and tvb(m.start, m.length) or tvb()
    end

    if type(command) == "string" then
        add(t, F.command, range("_command"), command)
    else
        broke("SC-MSG-01", "_command is missing or not a string", malformed)
        command = "?"
    end
    local id = msg.id
    if type(id) == "string" then
        add(t, F.id, range("id"), id)
        local n = characters(id)
        if n < 1 or n > LIMITS.id then broke("SC-MSG-01", "id has " .. n .. " characters, 1 to 64 allowed") end
    else
        broke("SC-MSG-01", "id is missing or not a string", malformed)
    end

    local layout = LAYOUT[command]
    if command ~= "?" and not layout then
        broke("SC-MSG-04", "no message type is called " .. command)
    elseif layout and client and SERVER_TYPES[command] then
        broke("SC-MSG-04", command .. " is a type only the server sends")
    elseif layout and not client and CLIENT_TYPES[command] then
        broke("§4.2", command .. " is a type only clients send")
    end

    -- SC-MSG-02: every server message has an id no earlier one on this connection had.
    if not client and type(id) == "string" then
        local k = pinfo.number .. ":" .. id
        if not pinfo.visited then
            server_ids[key] = server_ids[key] or {}
            repeated_id[k] = server_ids[key][id] and true or nil
            server_ids[key][id] = true
        end
        if repeated_id[k] then broke("SC-MSG-02", "the server used this id before on this connection") end
    end

    local summary = command
    local function field_error(field, what)
        broke("SC-MSG-05", "Invalid message: " .. field .. " " .. what)
    end
    for _, field in ipairs(layout or {}) do
        local v, r = msg[field], range(field)
        if field == "name" or field == "to_name" or field == "from_name" then
            if type(v) == "string" then
                add(t, F[field], r, v)
                summary = summary .. " " .. field .. "=" .. common.shortened(v, 40)
            end
            if not valid_name(v) then
                if command == "JoinMessage" then broke("SC-JOIN-08", "name must be 1 to 32 of [A-Za-z0-9_.-], not " ..
                    "starting with '.' (answered Invalid name)")
                else field_error(field, "is not a valid name") end
            end
        elseif field == "signature" or field == "encrypted_text" then
            if type(v) == "string" then
                add(t, F[field], r, common.shortened(v, 40))
                add(t, field == "signature" and F.signature_len or F.encrypted_len, r, math.floor(#v / 2))
                summary = summary .. " (" .. field .. " " .. math.floor(#v / 2) .. " bytes)"
            end
            if not valid_hex(v) and field == "signature" then
                broke("SC-JOIN-04", "signature must be non-empty, even-length hex of at most 2048 digits " ..
                    "(answered Invalid signature)")
            elseif not valid_hex(v) then
                broke("SC-PRIV-04", "encrypted_text must be non-empty, even-length hex of at most 2048 digits")
            end
        elseif field == "text" then
            if type(v) == "string" then
                add(t, F.text, r, v)
                summary = summary .. " " .. string.format("%q", common.shortened(v, 40))
                if command == "ErrorMessage" and #v == 0 then
                    broke("SC-ERR-02", "an error's text says what was wrong")
                end
                if #v > LIMITS.text then field_error("text", "is longer than 131072 bytes") end
            else
                field_error("text", "is missing or not a string")
            end
        elseif field == "public_key" then
            if type(v) == "string" then
                add(t, F.public_key, r, common.shortened(v, 64))
                if not v:match("^%-%-%-%-%-BEGIN PUBLIC KEY%-%-%-%-%-\n") then
                    t:add_proto_expert_info(advice, "public_key SHOULD be SPKI PEM (SC-WELCOME-03)")
                end
            else
                field_error("public_key", "is missing or not a string")
            end
        elseif field == "ref_message_id" then
            if type(v) == "string" then add(t, F.ref_message_id, r, v)
            elseif v == NULL then add(t, F.ref_message_id, r, "null")
            else broke("SC-ERR-01", "ref_message_id is a string or null") end
        elseif field == "users" then
            if kind(v) ~= "array" then
                field_error("users", "is not an array")
            else
                add(t, F.users, r, #v)
                local names = {}
                for _, u in ipairs(v) do
                    if kind(u) == "object" and valid_name(u.name) and type(u.public_key) == "string" then
                        add(t, F.user, r, u.name)
                        names[#names + 1] = u.name
                    else
                        field_error("users", "holds an entry that is not a UserInfo {name, public_key}")
                    end
                end
                summary = summary .. " users=" .. table.concat(names, ",")
            end
        end
    end
    for name in pairs(members) do
        if name ~= "_command" and name ~= "id" and layout then
            local known = false
            for _, f in ipairs(layout) do known = known or f == name end
            if not known then add(t, F.unknown_member, range(name), name) end -- SC-MSG-06: ignored
        end
    end
    finish(dir .. " " .. summary)
end

local dissect = common.message_dissector("securechat", dissect_message)

-- A WebSocket message is securechat when it is an object with the "_command" envelope; after that, every
-- message of the connection is, so that malformed ones are shown and flagged too.
local function heuristic(tvb, pinfo, tree)
    local function has_envelope()
        local head = tvb:raw(0, math.min(tvb:len(), 300))
        return head:match("^%s*{") and head:find('"_command"%s*:')
    end
    if not common.recognised(known, pinfo, has_envelope) then return false end
    dissect(tvb, pinfo, tree)
    return true
end

sc.dissector = dissect
DissectorTable.get("ws.port"):add(8765, sc)
sc:register_heuristic("ws", heuristic)
