-- Wireshark dissector for Parley's sslmessager (spec/sslmessager/spec.md): text lines inside TLS, port
-- 18443. Wireshark decrypts the TLS records when it has the session secrets (tls.keylog_file, e.g. the
-- --keylog file parley-conform writes) and hands their plaintext to this dissector: on port 18443 through
-- the "tls.port" table, and on any port through a heuristic that recognises the protocol's words.
--
-- The password of an AUTH line is never shown: the tree, the Info column and every field carry its length
-- only (SSLM-USERS-04 asks the same of the server's logs).

-- The helpers the five dissectors share, from parley_common.lua next to this file (why _G: see there).
local common = _G.parley_common or dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "") ..
    "parley_common.lua")
if not common.first_registration("sslmessager") then return end -- however often this file is loaded

local sm = Proto("sslmessager", "Parley sslmessager protocol")

local shown, add = common.shown, common.add

local MAX_MESSAGE, MAX_TEXT, FRAGMENT_TIMEOUT = 4096, 4000, 0.2 -- §4.2, SSLM-MSG-08, SSLM-FRAME-05

-- The END lines a server may send, byte for byte (§5.4), and the rule each belongs to.
local END_LINES = {
    ["END <incorrect username or password>"] = "SSLM-AUTH-04",
    ["END <user already online>"] = "SSLM-AUTH-05",
    ["END <end accepted>"] = "SSLM-END-01",
    ["END * <incorrect protocol>"] = "SSLM-ERR-02",
    ["END * <incorrect sender>"] = "SSLM-MSG-02",
    ["END * <message too long>"] = "SSLM-FRAME-08",
    ["END * <login timeout>"] = "SSLM-CONN-06",
}

local F = {
    direction = ProtoField.string("sslmessager.direction", "Direction"),
    command = ProtoField.string("sslmessager.command", "Command"),
    name = ProtoField.string("sslmessager.name", "Name"),
    password = ProtoField.string("sslmessager.password", "Password"),
    password_len = ProtoField.uint32("sslmessager.password_len", "Password length", base.DEC),
    target = ProtoField.string("sslmessager.target", "Target"),
    sender = ProtoField.string("sslmessager.sender", "Sender"),
    text = ProtoField.string("sslmessager.text", "Text"),
    reason = ProtoField.string("sslmessager.reason", "Reason"),
    violation = ProtoField.bool("sslmessager.violation", "Marks a protocol violation (*)"),
    end_rule = ProtoField.string("sslmessager.end_rule", "Rule this END belongs to"),
    terminator = ProtoField.string("sslmessager.terminator", "Terminator"),
    fragment = ProtoField.bool("sslmessager.fragment", "Held fragment (no LF yet)"),
    reassembled = ProtoField.uint32("sslmessager.held_bytes", "Bytes carried over from the previous record",
        base.DEC),
    rule = ProtoField.string("sslmessager.rule", "Broken rule"),
}
sm.fields = F

local broken = ProtoExpert.new("sslmessager.rule_broken", "sslmessager rule broken", expert.group.PROTOCOL,
    expert.severity.WARN)
local advice = ProtoExpert.new("sslmessager.note", "sslmessager note", expert.group.COMMENTS_GROUP,
    expert.severity.NOTE)
sm.experts = { broken, advice }
local flag_rule = common.rule_flagger(F.rule, broken)

-- ---------------------------------------------------------------------------------------------- state

-- Per capture: which end of each connection is the client (the one that speaks first: there is no
-- greeting, SSLM-CONN-02), whether the server has sent ACCEPT on it, and per direction the bytes held
-- without an LF and how many messages the client has sent. Reading a stream depends on the records
-- before it, so the first pass keeps, per record, what it carried over; later visits show the same.
local client_end, directions, carried, known, online = {}, {}, {}, {}, {}

function sm.init()
    client_end, directions, carried, known, online = {}, {}, {}, {}, {}
end

local CLIENT_WORDS = { AUTH = true, MSG = true }
local SERVER_WORDS = { ACCEPT = true, RELAY = true, CNT = true, CHECK = true }

-- Whether this record comes from the client, its direction's key and its connection's key.
local function from_client(pinfo, first_word)
    local client, key, src = common.from_client(client_end, pinfo, SERVER_WORDS[first_word])
    return client, key .. ">" .. src, key
end

-- TLS calls the dissector once per record; a frame may hold several.
local call = { frame = -1, n = 0 }

-- ---------------------------------------------------------------------------------------------- messages

local function valid_name(v)
    return v and #v >= 1 and #v <= 32 and v:match("^[A-Za-z0-9_.-]+$") ~= nil
end

local function valid_password(v) -- SSLM-USERS-02: 1 to 128 bytes of 0x21-0x7E or 0x80-0xFF
    return v and #v >= 1 and #v <= 128 and not v:find("[%z\1-\32\127]")
end

-- A client message as the server reads it (§5.2). `state` is what the first pass knew of this direction
-- before the message; AUTH's password never leaves this function except as its length.
local function client_message(m, content, state)
    local cmd = content:match("^(%S*)")
    if cmd:upper() == "AUTH" then
        local name, password = content:match("^%S+ ([^ ]*) (.*)$")
        if not name then name = content:match("^%S+ ([^ ]*)$") end
        if #cmd > 0 then add(m.tree, F.command, m.range(0, #cmd), cmd) end
        if name and #name > 0 then add(m.tree, F.name, m.range(#cmd + 1, #name), name) end
        if password and #password > 0 then
            local item = add(m.tree, F.password, m.range(#cmd + 2 + #name, #password), "******** (masked)")
            add(item, F.password_len, m.range(#cmd + 2 + #name, #password), #password)
        end
        m.summary = cmd .. " " .. (name or "") .. " ********"
        if cmd ~= "AUTH" then
            m:broke(state.messages == 0 and "SSLM-AUTH-01" or "SSLM-ERR-02", "commands are case-sensitive")
        elseif not name or not password or #name == 0 or #password == 0 or password:find(" ", 1, true) then
            m:broke("SSLM-AUTH-02", "AUTH has exactly two fields, a name and a password")
        elseif not valid_name(name) or not valid_password(password) then
            m:broke(valid_name(name) and "SSLM-USERS-02" or "SSLM-USERS-01",
                "outside the grammar of §8.1 (answered as a wrong password)")
        end
        if cmd == "AUTH" and state.online then m:broke("SSLM-AUTH-07", "an AUTH after the connection's ACCEPT") end
        return "AUTH"
    end
    if #cmd > 0 then add(m.tree, F.command, m.range(0, #cmd), cmd) end
    m.summary = common.shortened(content, 70)
    if state.messages == 0 and cmd ~= "" then
        m:broke("SSLM-AUTH-01", "the first message of a connection is AUTH")
        return cmd
    end
    if cmd == "MSG" then
        local target, sender, rest = content:match("^MSG ([^ ]*) ?([^ ]*)(.*)$")
        if target and #target > 0 then add(m.tree, F.target, m.range(4, #target), target) end
        if sender and #sender > 0 then add(m.tree, F.sender, m.range(5 + #target, #sender), sender) end
        local text = rest and rest:sub(2)
        if text and #text > 0 then add(m.tree, F.text, m.range(#content - #text, #text), text) end
        if not target or #target == 0 or #sender == 0 then
            m:broke("SSLM-MSG-01", "MSG needs a target and a sender")
        elseif #text > MAX_TEXT then
            m:broke("SSLM-MSG-08", "text of " .. #text .. " bytes, more than " .. MAX_TEXT)
        end
    elseif cmd == "END" then
        -- anything after END is ignored (§5.2)
    else
        m:broke("SSLM-ERR-02", "not a client message: the server ends the connection with END * <incorrect protocol>")
    end
    return cmd
end

local function server_message(m, content)
    local cmd = content:match("^(%S*)")
    if #cmd > 0 then add(m.tree, F.command, m.range(0, #cmd), cmd) end
    m.summary = common.shortened(content, 70)
    if cmd == "ACCEPT" then
        local name = content:match("^ACCEPT (.+)$")
        if name then add(m.tree, F.name, m.range(7, #name), name) end
        if not valid_name(name) then m:broke("SSLM-AUTH-03", "ACCEPT carries the name of the AUTH") end
    elseif cmd == "RELAY" then
        local target, sender, text = content:match("^RELAY ([^ ]+) ([^ ]+) (.*)$")
        if not target then
            m:broke("SSLM-MSG-03", "RELAY target sender text")
        else
            add(m.tree, F.target, m.range(6, #target), target)
            add(m.tree, F.sender, m.range(7 + #target, #sender), sender)
            if #text > 0 then add(m.tree, F.text, m.range(#content - #text, #text), text) end
        end
    elseif cmd == "CNT" then
        if content ~= "CNT <user not online>" then m:broke("SSLM-MSG-04", "CNT is exactly CNT <user not online>") end
        if #content > 4 then add(m.tree, F.reason, m.range(4, #content - 4), content:sub(5)) end
    elseif cmd == "CHECK" then
        if content ~= "CHECK" then m:broke("SSLM-CHECK-01", "CHECK carries nothing") end
    elseif cmd == "END" then
        local star, reason = content:match("^END (%*?) ?(<.*>)$")
        if reason then
            add(m.tree, F.reason, m.range(#content - #reason, #reason), reason)
            add(m.tree, F.violation, star == "*"):set_generated()
        end
        local rule = END_LINES[content]
        if rule then
            add(m.tree, F.end_rule, rule):set_generated()
        else
            m:broke("SSLM-ERR-01", "not one of the END lines of §5.4")
        end
    else
        m:broke("§5.3", "not a server message of the grammar (a client ignores it, SSLM-CLIENT-08)")
    end
    return cmd
end

local Message = {}
Message.__index = Message

-- A held fragment may still be completed by the next record, so what it would break is only a note.
function Message:broke(rule, text)
    if self.fragment then
        self.tree:add_proto_expert_info(advice,
            shown("if nothing completes this fragment: " .. text .. " [" .. rule .. "]"))
        return
    end
    flag_rule(self.tree, self.rules, rule, text)
end

-- One message: `length` bytes of tvb from `offset`, then `terminator` ("" for a held fragment).
local function dissect_message(tvb, offset, length, terminator, tree, client, state, found, held)
    local bytes = tvb:raw(offset, length)
    local content = bytes:gsub("\r$", "")
    local trailing_space = content:sub(-1) == " "
    if trailing_space then content = content:sub(1, -2) end
    local m = setmetatable({ rules = {}, fragment = #terminator == 0 }, Message)
    m.tree = tree:add(sm, tvb(offset, length + #terminator))
    m.range = function(at, n) return tvb(offset + at, n) end
    add(m.tree, F.direction, common.direction(not client)):set_generated()
    if held > 0 then add(m.tree, F.reassembled, held):set_generated() end
    if #terminator == 0 then
        add(m.tree, F.fragment, true):set_generated()
        m.tree:add_proto_expert_info(advice, "no LF yet: a later record within 200 ms completes it, else it is " ..
            "taken as a whole message (SSLM-FRAME-05)")
    end
    if length + #terminator > MAX_MESSAGE then
        m:broke("SSLM-FRAME-08", "a message of " .. (length + #terminator) .. " bytes, more than 4096")
    end
    local cmd
    if content == "" then
        m.summary = "(empty message, ignored: SSLM-FRAME-07)"
    elseif content:find("\r", 1, true) then
        m.summary = "(CR inside a message)"
        m:broke("SSLM-FRAME-03", "a CR inside a message makes it malformed")
    elseif client then
        cmd = client_message(m, content, state)
    elseif content:match("^%S*"):upper() == "AUTH" then
        -- no server sends AUTH; whoever does, the password in it stays hidden
        client_message(m, content, { messages = 1, online = false })
        m:broke("§5.3", "not a server message of the grammar")
    else
        cmd = server_message(m, content)
    end
    if #terminator > 0 and content ~= "" then -- an empty line is no message (SSLM-FRAME-07)
        local ending = bytes:sub(#content + 1) .. terminator
        add(m.tree, F.terminator, tvb(offset + #content, #ending), common.terminator_text(ending))
        if ending ~= " \r\n" then m:broke("SSLM-FRAME-01", "a sender ends every message with SP CR LF") end
    end
    for _, v in ipairs(found) do m:broke(v[1], v[2]) end
    return common.direction(not client) .. " " .. common.summarize(m.tree, m.summary, m.rules), cmd
end

-- The client's message count after a message (for SSLM-AUTH-01).
local function advance(state, cmd)
    if cmd and cmd ~= "" then state.messages = state.messages + 1 end
end

-- One TLS record's plaintext, read as §4.2 says: messages end at LF; bytes without an LF are held and
-- completed by the next record if it comes within the fragment timeout.
local function dissect_record(tvb, pinfo, tree, summaries)
    if call.frame ~= pinfo.number then call.frame, call.n = pinfo.number, 0 end
    call.n = call.n + 1
    local record = pinfo.number .. ":" .. call.n
    local first_word = tvb:raw(0, math.min(tvb:len(), 8)):match("^(%S*)")
    local client, dir, connection = from_client(pinfo, first_word)

    local st
    if not pinfo.visited then
        st = directions[dir] or { held = "", time = 0, messages = 0 }
        directions[dir] = st
        local prefix = ""
        if #st.held > 0 then
            if pinfo.abs_ts - st.time <= FRAGMENT_TIMEOUT then
                prefix = st.held
            else
                -- the held bytes were taken as a message when the timeout expired (SSLM-FRAME-05)
                advance(st, st.held:match("^(%S*)"))
            end
        end
        carried[record] = { prefix = prefix, messages = st.messages, online = online[connection] }
    end
    local carry = carried[record] or { prefix = "", messages = 1, online = false }

    local data_tvb = tvb
    if #carry.prefix > 0 then
        data_tvb = ByteArray.new(carry.prefix .. tvb:raw(), true):tvb("sslmessager message")
    end
    local s = data_tvb:raw()
    local state = { messages = carry.messages, online = carry.online }
    local offset, complete = 0, 0
    while offset < #s do
        local lf = s:find("\n", offset + 1, true)
        local length = (lf and lf - 1 or #s) - offset
        local found = {}
        if lf then
            complete = complete + 1
            if complete >= 2 then
                found[#found + 1] = { "SSLM-FRAME-02", "another message in the same TLS record" }
            end
            if offset == 0 and #carry.prefix > 0 then
                found[#found + 1] = { "SSLM-FRAME-02", "a message split over several TLS records" }
            end
        end
        local info, cmd = dissect_message(data_tvb, offset, length, lf and "\n" or "", tree, client, state, found,
            offset == 0 and #carry.prefix or 0)
        summaries[#summaries + 1] = info
        if lf and client then advance(state, cmd) end
        if lf and not client and cmd == "ACCEPT" and not pinfo.visited then online[connection] = true end
        offset = offset + length + (lf and 1 or 0)
    end
    if st then
        local last_lf = s:find("\n[^\n]*$")
        st.held = last_lf and s:sub(last_lf + 1) or s
        st.time = pinfo.abs_ts
        st.messages = state.messages
    end
end

local dissect = common.message_dissector("sslmessager", dissect_record)

-- TLS application data is sslmessager when a connection's first record starts with one of its words;
-- after that every record of the connection is.
local FIRST = { "^AUTH ", "^ACCEPT ", "^MSG ", "^RELAY ", "^CNT <", "^CHECK[ \r\n]", "^END[ \r\n]" }
local function heuristic(tvb, pinfo, tree)
    local function starts_with_a_word()
        local head = tvb:raw(0, math.min(tvb:len(), 10))
        local match = false
        for _, p in ipairs(FIRST) do match = match or head:find(p) ~= nil end
        return match
    end
    if not common.recognised(known, pinfo, starts_with_a_word) then return false end
    dissect(tvb, pinfo, tree)
    return true
end

sm.dissector = dissect
DissectorTable.get("tls.port"):add(18443, sm)
-- Plain TCP too, by Decode As only: the lines behind a TLS-terminating proxy, or a peer that skipped TLS.
DissectorTable.get("tcp.port"):add_for_decode_as(sm)
sm:register_heuristic("tls", heuristic)
