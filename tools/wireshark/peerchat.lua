-- Wireshark dissectors for Parley's peerchat (spec/peerchat/spec.md), in two parts:
--   peerchat      the rendezvous lines over TCP, port 6969, and any other port through a heuristic that
--                 recognises a connection's first line (HELLO or REGISTER);
--   peerchat_udp  the chat datagrams between peers: the peerchat/1 text layout (§7.2) and the peerchat/2
--                 HELLO and SEALED records (§8.4, §8.5). UDP ports are negotiated, so this is a heuristic:
--                 it takes every datagram on a port that a STARTCHAT in the capture named, and, when the
--                 capture lacks the rendezvous, datagrams that look like peerchat between two equal ports
--                 of the chat range.

-- The helpers the five dissectors share, from parley_common.lua next to this file (why _G: see there).
local common = _G.parley_common or dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "") ..
    "parley_common.lua")
if not common.first_registration("peerchat") then return end -- however often this file is loaded

local pc = Proto("peerchat", "Parley peerchat rendezvous protocol")
local pcu = Proto("peerchat_udp", "Parley peerchat peer datagrams")

local shown, add = common.shown, common.add

local MAX_LINE, MAX_DATAGRAM, MAX_TEXT = 512, 1200, 1000 -- PC-LINE-03, PC-UDP-04
local PORT_LOW, PORT_HIGH = 40000, 59999                  -- PC-PORT-01

local ERRORS = { -- §4.1
    Operation_unknown = { "empty, unknown or server-only command", "PC-LINE-04" },
    Bad_syntax = { "REGISTER or CHAT with a missing, empty or extra field", "PC-ERR-02" },
    Invalid_name = { "REGISTER with a name outside the grammar", "PC-REG-04" },
    Bad_key = { "REGISTER with a malformed public key", "PC-KEY-02" },
    User_exists = { "REGISTER of a taken name", "PC-REG-02" },
    Already_auth = { "REGISTER of a free name on a registered connection", "PC-REG-03" },
    Not_registered = { "LISTUSERS or CHAT before registering", "PC-LIST-02" },
    User_not_online = { "CHAT for a name nobody has registered", "PC-CHAT-01" },
    Self_chat = { "CHAT for one's own name", "PC-CHAT-02" },
    User_busy = { "CHAT while either user is in a negotiation", "PC-CHAT-03" },
    Max_PortAgree_Retries_Exceded = { "20 ports refused", "PC-PORT-04" },
    Chat_aborted = { "a negotiation ended by a timeout or a departure", "PC-PORT-05" },
    Line_too_long = { "a line over 512 bytes; the connection is closed", "PC-LINE-03" },
    Server_full = { "the connection limit is reached; the connection is closed", "PC-LIMIT-01" },
}

-- ---------------------------------------------------------------------------------------------- fields

local F = {
    direction = ProtoField.string("peerchat.direction", "Direction"),
    command = ProtoField.string("peerchat.command", "Command"),
    version = ProtoField.string("peerchat.version", "Version offered"),
    name = ProtoField.string("peerchat.name", "Name"),
    pubkey = ProtoField.string("peerchat.pubkey", "Public key (Ed25519)"),
    port = ProtoField.uint16("peerchat.port", "UDP port", base.DEC),
    address = ProtoField.string("peerchat.address", "Peer address"),
    listed = ProtoField.string("peerchat.listed_user", "Listed user"),
    code = ProtoField.string("peerchat.error.code", "Error code"),
    meaning = ProtoField.string("peerchat.error.meaning", "Meaning"),
    terminator = ProtoField.string("peerchat.terminator", "Terminator"),
    rule = ProtoField.string("peerchat.rule", "Broken rule"),
}
pc.fields = F

local U = {
    version = ProtoField.string("peerchat_udp.version", "Version"),
    layout = ProtoField.string("peerchat_udp.layout", "Layout"),
    user = ProtoField.string("peerchat_udp.user", "User"),
    type = ProtoField.string("peerchat_udp.type", "Type"),
    text = ProtoField.string("peerchat_udp.text", "Text"),
    expected_user = ProtoField.string("peerchat_udp.expected_user", "Name from STARTCHAT"),
    marker = ProtoField.uint8("peerchat_udp.marker", "peerchat/2 marker", base.HEX),
    kind = ProtoField.uint8("peerchat_udp.kind", "Kind", base.HEX, { [1] = "HELLO", [2] = "SEALED" }),
    eph = ProtoField.bytes("peerchat_udp.eph", "Ephemeral X25519 public key"),
    name_len = ProtoField.uint8("peerchat_udp.name_len", "Name length", base.DEC),
    name = ProtoField.string("peerchat_udp.name", "Name"),
    seq = ProtoField.uint64("peerchat_udp.seq", "Record sequence number", base.DEC),
    ciphertext = ProtoField.bytes("peerchat_udp.ciphertext", "Ciphertext (type byte and body)"),
    ciphertext_len = ProtoField.uint16("peerchat_udp.ciphertext_len", "Ciphertext length", base.DEC),
    tag = ProtoField.bytes("peerchat_udp.tag", "Poly1305 tag"),
    rule = ProtoField.string("peerchat_udp.rule", "Broken rule"),
}
pcu.fields = U

local broken = ProtoExpert.new("peerchat.rule_broken", "peerchat rule broken", expert.group.PROTOCOL,
    expert.severity.WARN)
pc.experts = { broken }
local dropped = ProtoExpert.new("peerchat_udp.dropped", "peerchat datagram a peer drops", expert.group.MALFORMED,
    expert.severity.WARN)
local off_layout = ProtoExpert.new("peerchat_udp.rule_broken", "peerchat datagram rule broken",
    expert.group.PROTOCOL, expert.severity.WARN)
pcu.experts = { dropped, off_layout }
local flag_line_rule = common.rule_flagger(F.rule, broken)
local flag_datagram_rule = common.rule_flagger(U.rule, off_layout)

-- ---------------------------------------------------------------------------------------------- state

-- Per capture: which end of each rendezvous connection is the client (the one that speaks first, there
-- is no greeting: PC-CONN-02), and the chats STARTCHAT announced: port -> { address -> name }.
local client_end, chats = {}, {}

function pc.init()
    client_end, chats = {}, {}
end

local CLIENT_WORDS = { REGISTER = true, LISTUSERS = true, CHAT = true }
local SERVER_WORDS = { REGISTERED = true, STARTUSERS = true, ENDUSERS = true, PORT = true, STARTCHAT = true }

local function valid_name(v) -- §4
    return v ~= nil and #v >= 1 and #v <= 32 and v:match("^[A-Za-z0-9_.-]+$") ~= nil
        and v ~= "STARTUSERS" and v ~= "ENDUSERS"
end

local function valid_key(v) -- PC-KEY-02
    return v ~= nil and v:match("^ed25519:" .. string.rep("[0-9a-f]", 64) .. "$") ~= nil
end

local function valid_address(v) -- PC-START-02: dotted decimal, or IPv6 text
    if not v then return false end
    local a, b, c, d = v:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
    if a then
        for _, n in ipairs({ a, b, c, d }) do
            if tonumber(n) > 255 or (#n > 1 and n:sub(1, 1) == "0") then return false end
        end
        return true
    end
    return v:find(":", 1, true) ~= nil and v:match("^[0-9a-f:.]+$") ~= nil and not v:find("^::ffff:%d")
end

-- ---------------------------------------------------------------------------------------------- rendezvous

local Line = {}
Line.__index = Line

function Line:broke(rule, text)
    flag_line_rule(self.tree, self.rules, rule, text)
end

function Line:word(field, i, value)
    local w = self.words[i]
    if w and #w.text > 0 then add(self.tree, field, self.range(w.start, #w.text), value or w.text) end
    return w and w.text
end

local function check_port(line, i, rule)
    local text = line.words[i] and line.words[i].text
    local port = text and text:match("^%d%d%d%d%d$") and tonumber(text)
    if port then line:word(F.port, i, port) end
    if not port or port < PORT_LOW or port > PORT_HIGH then
        line:broke(rule, "a chat port is 5 digits in 40000-59999")
    end
    return port
end

local function client_line(line, s, n)
    local cmd = line.words[1] and line.words[1].text or ""
    if cmd == "HELLO" then
        line:word(F.version, 2)
    elseif cmd == "REGISTER" then
        local name, key = line:word(F.name, 2), line:word(F.pubkey, 3)
        if n < 2 or n > 3 or name == "" or key == "" then
            line:broke("PC-ERR-02", "REGISTER name [key] (answered Bad_syntax)")
        elseif not valid_name(name) then
            line:broke("PC-REG-04", "name is 1 to 32 of [A-Za-z0-9_.-] (answered Invalid_name)")
        elseif key and not valid_key(key) then
            line:broke("PC-KEY-02", "key is ed25519: and 64 lower-case hex digits (answered Bad_key)")
        end
    elseif cmd == "CHAT" then
        local name = line:word(F.name, 2)
        if n ~= 2 or name == "" then line:broke("PC-ERR-02", "CHAT name (answered Bad_syntax)") end
    elseif cmd == "OK" then
        if n > 1 then check_port(line, 2, "PC-CLI-03") end
    elseif cmd == "ERROR" then
        line:word(F.code, 2)
    elseif cmd == "LISTUSERS" or cmd == "CLOSE" then
        -- no fields
    else
        line:broke("PC-LINE-04", (cmd == "" and "an empty line" or "not a client command") ..
            " (answered ERROR Operation_unknown)")
    end
end

local function server_line(line, s, n, pinfo)
    local cmd = line.words[1] and line.words[1].text or ""
    if cmd == "HELLO" then
        local v = line:word(F.version, 2)
        if n > 2 or (v and v ~= "peerchat/2") then
            line:broke("PC-HELLO-02", "the answer is HELLO or HELLO peerchat/2")
        end
    elseif cmd == "REGISTERED" then
        line:word(F.name, 2)
        if n ~= 3 or line.words[3].text ~= "OK" then line:broke("PC-REG-01", "REGISTERED name OK") end
    elseif cmd == "PORT" then
        check_port(line, 2, "PC-PORT-01")
    elseif cmd == "STARTCHAT" then
        local address, name, key = line:word(F.address, 2), line:word(F.name, 4), line:word(F.pubkey, 5)
        local port = check_port(line, 3, "PC-PORT-01")
        if n < 4 or n > 5 then line:broke("PC-START-01", "STARTCHAT address port name [key]") end
        if address and not valid_address(address) then
            line:broke("PC-START-02", "the address is dotted decimal or RFC 5952 text")
        end
        if key and not valid_key(key) then line:broke("PC-KEY-02", "key is ed25519: and 64 lower-case hex digits") end
        if port and address and name and not pinfo.visited then
            chats[port] = chats[port] or {}
            chats[port][address] = name
        end
    elseif cmd == "ERROR" then
        local code = line:word(F.code, 2)
        local known = code and ERRORS[code]
        if known then
            add(line.tree, F.meaning, line.range(0, #s), known[1] .. " (" .. known[2] .. ")")
            line.summary = line.summary .. " (" .. known[1] .. ")"
        end
        if not known or n ~= 2 then line:broke("PC-ERR-01", "not one of the ERROR lines of §4.1") end
    elseif cmd == "STARTUSERS" or cmd == "ENDUSERS" or cmd == "OK" or cmd == "CLOSE" then
        if n ~= 1 then line:broke("PC-LIST-01", cmd .. " stands alone on its line") end
    elseif n == 1 and valid_name(cmd) then
        add(line.tree, F.listed, line.range(0, #cmd), cmd) -- a line of a STARTUSERS block
        line.summary = "user " .. cmd
    else
        line:broke("§4", "not a server line of the grammar (a client ignores it, PC-CLI-01)")
    end
end

local function dissect_line(tvb, offset, length, terminator, pinfo, tree)
    local s = tvb:raw(offset, length)
    local words = common.split_words(s)
    local client = common.from_client(client_end, pinfo, SERVER_WORDS[words[1] and words[1].text])
    local line = setmetatable({ rules = {}, words = words }, Line)
    line.tree = tree:add(pc, tvb(offset, length + #terminator))
    line.range = function(at, n) return tvb(offset + at, n) end
    add(line.tree, F.direction, common.direction(not client)):set_generated()
    local cmd = words[1] and words[1].text or ""
    if #cmd > 0 then add(line.tree, F.command, tvb(offset, #cmd), cmd) end
    line.summary = common.shortened(s, 70)
    if length + #terminator > MAX_LINE then
        line:broke("PC-LINE-03", "a line of " .. (length + #terminator) .. " bytes, more than 512 with its LF")
    elseif client then
        client_line(line, s, #words)
    else
        server_line(line, s, #words, pinfo)
    end
    if #terminator > 0 then
        add(line.tree, F.terminator, tvb(offset + length, #terminator), common.terminator_text(terminator))
        if not client and terminator ~= "\n" then
            line:broke("PC-LINE-01", "the server ends its lines with LF alone")
        end
    end
    return common.direction(not client) .. " " .. common.summarize(line.tree, line.summary, line.rules)
end

-- Lines end at LF, one CR before it belongs to the terminator (PC-LINE-02). Returns the terminator's
-- offset and the terminator.
local function line_end(s, offset)
    local lf = s:find("\n", offset + 1, true)
    if not lf then return nil end
    if lf - 1 > offset and s:sub(lf - 1, lf - 1) == "\r" then return lf - 2, "\r\n" end
    return lf - 1, "\n"
end

-- An unfinished line makes TCP wait for more data while it is within the limit (MAX_LINE counts the LF).
local dissect_rendezvous = common.message_dissector("peerchat", function(tvb, pinfo, tree, summaries)
    common.walk_lines(tvb:raw(), pinfo, line_end, MAX_LINE - 1, function(offset, length, terminator)
        summaries[#summaries + 1] = dissect_line(tvb, offset, length, terminator, pinfo, tree)
    end)
end)

-- A rendezvous connection starts with the client's HELLO or REGISTER (§1).
local function rendezvous_heuristic(tvb, pinfo, tree)
    local head = tvb:raw(0, math.min(tvb:len(), 48))
    if not (head:match("^HELLO\r?\n") or head:match("^HELLO [^ \r\n]+\r?\n") or
            head:match("^REGISTER [A-Za-z0-9_.-]+[ \r\n]")) then
        return false
    end
    pinfo.conversation = pc
    dissect_rendezvous(tvb, pinfo, tree)
    return true
end

-- ---------------------------------------------------------------------------------------------- datagrams

-- PC-UDP-03: the types a receiver knows, in any letter case, and the spelling a peer sends (PC-UDP-02).
local TYPES = { connect = "Connect", msg = "Msg", close = "Close", keepalivetoken = "KeepAliveToken",
                keepalive = "KeepAliveToken" }

local function v1_fields(s)
    if s:find("\n", 1, true) then
        local fields = {}
        for field in (s .. "\n"):gmatch("([^\n]*)\n") do fields[#fields + 1] = field end
        local function clean(f) return f and (f:gsub("\r$", "")) or "" end
        return "original", clean(fields[1]), clean(fields[2]), clean(fields[3])
    end
    local user, kind, text = s:match("^([^ ]*) ([^ ]*) ?(.*)$")
    return "seed", user, kind, text
end

local function dissect_v1(tvb, pinfo, t, broke)
    local s = tvb:raw()
    add(t, U.version, "peerchat/1"):set_generated()
    if s:find("\0", 1, true) then return broke("PC-UDP-03", "a NUL byte: malformed, dropped", dropped) end
    local layout, user, kind, text = v1_fields(s)
    add(t, U.layout, layout == "seed" and "the seed's: user SP type SP text" or "LF-separated fields")
    if not user then return broke("PC-UDP-03", "neither the LF layout nor user SP type: dropped", dropped) end
    if #user > 0 then add(t, U.user, tvb(0, #user), user) end
    local kind_at = #kind > 0 and s:find(kind, #user + 2, true)
    if kind_at then add(t, U.type, tvb(kind_at - 1, #kind), kind) end
    local text_at = #text > 0 and s:find(text, (kind_at or #user + 2) + #kind, true)
    if text_at then add(t, U.text, tvb(text_at - 1, #text), text) end
    local canonical = TYPES[kind:lower()]
    local summary = "peerchat/1 " .. (canonical or kind) .. " from " .. user
    if canonical == "Msg" then summary = summary .. " " .. string.format("%q", text) end
    if not canonical then
        broke("PC-UDP-03", "type " .. kind .. " is none of Connect, Msg, Close, KeepAliveToken: dropped", dropped)
    elseif layout == "seed" or s ~= user .. "\n" .. canonical .. "\n" .. text .. "\n\n" then
        broke("PC-UDP-02", "a peer sends exactly user LF type LF text LF LF, with the type spelt " .. canonical)
    end
    if canonical == "Connect" and not text:match("^%d+$") then
        broke("PC-UDP-02", "a Connect carries a decimal integer")
    elseif (canonical == "Close" or canonical == "KeepAliveToken") and #text > 0 then
        broke("PC-UDP-02", canonical .. " carries no text")
    elseif canonical == "Msg" and #text > MAX_TEXT then
        broke("PC-UDP-04", "a Msg text is at most 1000 bytes")
    end
    local chat = chats[pinfo.src_port] or chats[pinfo.dst_port]
    local expected = chat and chat[tostring(pinfo.src)]
    if expected then
        add(t, U.expected_user, expected):set_generated()
        if expected ~= user then broke("PC-UDP-08", "user is not the name from STARTCHAT: dropped", dropped) end
    end
    return summary
end

local function dissect_v2(tvb, pinfo, t, broke)
    local n = tvb:len()
    add(t, U.version, "peerchat/2"):set_generated()
    add(t, U.marker, tvb(0, 1))
    local kind = tvb(1, 1):uint()
    add(t, U.kind, tvb(1, 1))
    if kind == 1 then
        if n < 35 or n ~= 35 + tvb(34, 1):uint() then
            return broke("PC-HS-01", "a HELLO is B2 01, a 32-byte key, a length byte and that many name bytes; " ..
                "this one has " .. n .. " bytes", dropped)
        end
        add(t, U.eph, tvb(2, 32))
        add(t, U.name_len, tvb(34, 1))
        local name = tvb:raw(35, n - 35)
        if n > 35 then add(t, U.name, tvb(35, n - 35), name) end
        if not valid_name(name) then broke("PC-HS-02", "the name is the sender's registered name") end
        return "peerchat/2 HELLO from " .. name
    elseif kind == 2 then
        if n < 27 then
            return broke("PC-REPLAY-02", "a SEALED record has a header, at least a type byte and a 16-byte tag; " ..
                "this one has " .. n .. " bytes: too short, dropped", dropped)
        end
        local seq = tvb(2, 8):uint64()
        add(t, U.seq, tvb(2, 8))
        add(t, U.ciphertext, tvb(10, n - 26))
        add(t, U.ciphertext_len, n - 26):set_generated()
        add(t, U.tag, tvb(n - 16, 16))
        if seq == UInt64(0) or seq >= UInt64(0, 1) then
            broke("PC-REC-02", "records are numbered from 1 and end before 2^32")
        end
        return "peerchat/2 SEALED seq=" .. tostring(seq) .. " (" .. (n - 26) .. "-byte plaintext)"
    end
    return broke("PC-HS-01", "kind " .. kind .. " is neither HELLO (1) nor SEALED (2): dropped", dropped)
end

local function dissect_datagram(tvb, pinfo, tree)
    local n = tvb:len()
    if n == 0 then return 0 end
    pinfo.cols.protocol = "peerchat"
    local t = tree:add(pcu, tvb())
    local rules = {}
    local function broke(rule, text, expert_kind)
        flag_datagram_rule(t, rules, rule, text, expert_kind)
    end
    local summary
    if n > MAX_DATAGRAM then
        broke("PC-UDP-04", "a datagram of " .. n .. " bytes, more than 1200: dropped", dropped)
    end
    if n >= 2 and tvb(0, 1):uint() == 0xB2 then
        summary = dissect_v2(tvb, pinfo, t, broke)
    elseif n >= 2 then
        summary = dissect_v1(tvb, pinfo, t, broke)
    else
        broke("PC-UDP-03", "a datagram of " .. n .. " byte: dropped", dropped)
    end
    pinfo.cols.info = shown(common.summarize(t, summary or "malformed datagram", rules))
    return n
end

-- Whether a datagram looks like peerchat when no STARTCHAT in the capture named its port.
local function looks_like_peerchat(tvb)
    local n = tvb:len()
    if n < 2 or n > MAX_DATAGRAM then return false end
    if tvb(0, 1):uint() == 0xB2 then
        local kind = tvb(1, 1):uint()
        return (kind == 1 and n >= 35 and n == 35 + tvb(34, 1):uint()) or (kind == 2 and n >= 27)
    end
    local _, user, kind = v1_fields(tvb:raw())
    return valid_name(user) and kind ~= nil and TYPES[kind:lower()] ~= nil
end

local function datagram_heuristic(tvb, pinfo, tree)
    if not (chats[pinfo.src_port] or chats[pinfo.dst_port]) then
        local port = pinfo.src_port
        if port ~= pinfo.dst_port or port < PORT_LOW or port > PORT_HIGH or not looks_like_peerchat(tvb) then
            return false
        end
    end
    pinfo.conversation = pcu
    dissect_datagram(tvb, pinfo, tree)
    return true
end

pc.dissector = dissect_rendezvous
pcu.dissector = dissect_datagram
DissectorTable.get("tcp.port"):add(6969, pc)
DissectorTable.get("udp.port"):add_for_decode_as(pcu)
pc:register_heuristic("tcp", rendezvous_heuristic)
pcu:register_heuristic("udp", datagram_heuristic)
