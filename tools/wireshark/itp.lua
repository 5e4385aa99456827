-- Wireshark dissector for Parley's itp (spec/itp/spec.md): text lines over TCP, port 1337, and any other
-- port through a heuristic that recognises a connection by its first line (INIT from the server, IDENT
-- from the client). Every line becomes named fields; a line that breaks a rule gets an expert warning and
-- the rule id (itp.rule) in the tree and the Info column.

-- The helpers the five dissectors share, from parley_common.lua next to this file (why _G: see there).
local common = _G.parley_common or dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "") ..
    "parley_common.lua")
-- Wireshark loads every .lua file of a plugins folder, and parley.lua loads this file as well.
if not common.first_registration("itp") then return end

local itp = Proto("itp", "Parley itp chat protocol")

local shown, add = common.shown, common.add

local MAX_LINE = 1024 -- §3: bytes before the terminator

local FAIL_MEANING = { -- §8
    [0] = "unknown or malformed command",
    [1] = "the name is used by another session",
    [2] = "the name is invalid (or missing)",
    [3] = "the command needs a login",
    [4] = "this connection is already logged in",
    [5] = "PONG without an outstanding PING",
    [6] = "USERS from the only logged-in user",
    [7] = "the recipient is not logged in",
    [8] = "a private message or session key to yourself",
}

local F = {
    line = ProtoField.string("itp.line", "Line"),
    direction = ProtoField.string("itp.direction", "Direction"),
    command = ProtoField.string("itp.command", "Command"),
    arguments = ProtoField.string("itp.arguments", "Arguments"),
    name = ProtoField.string("itp.name", "User name"),
    from = ProtoField.string("itp.from", "From"),
    to = ProtoField.string("itp.to", "To"),
    text = ProtoField.string("itp.text", "Text"),
    user = ProtoField.string("itp.user", "Listed user"),
    acked = ProtoField.string("itp.ok.command", "Acknowledged command"),
    fail_code = ProtoField.uint8("itp.fail.code", "FAIL code", base.DEC),
    fail_meaning = ProtoField.string("itp.fail.meaning", "Meaning"),
    fail_text = ProtoField.string("itp.fail.text", "Error text"),
    reason = ProtoField.string("itp.reason", "Reason"),
    token = ProtoField.string("itp.token", "Token"),
    token_kind = ProtoField.string("itp.token.kind", "Token kind"),
    token_len = ProtoField.uint32("itp.token.decoded_len", "Decoded length", base.DEC),
    nonce = ProtoField.bytes("itp.token.nonce", "Nonce"),
    ciphertext = ProtoField.bytes("itp.token.ciphertext", "Ciphertext"),
    ciphertext_len = ProtoField.uint32("itp.token.ciphertext_len", "Ciphertext length", base.DEC),
    tag = ProtoField.bytes("itp.token.tag", "GCM tag"),
    wrapped_key = ProtoField.bytes("itp.token.wrapped_key", "RSA-OAEP wrapped session key"),
    public_key = ProtoField.bytes("itp.token.public_key", "Public key (DER SubjectPublicKeyInfo)"),
    terminator = ProtoField.string("itp.terminator", "Terminator"),
    rule = ProtoField.string("itp.rule", "Broken rule"),
}
itp.fields = F

local broken = ProtoExpert.new("itp.rule_broken", "itp rule broken", expert.group.PROTOCOL, expert.severity.WARN)
local advice = ProtoExpert.new("itp.note", "itp note", expert.group.COMMENTS_GROUP, expert.severity.NOTE)
itp.experts = { broken, advice }
local flag_rule = common.rule_flagger(F.rule, broken)

-- Which end of each connection is the server, learnt from the first line that tells (INIT comes from the
-- server, IDENT from the client) or from the port the dissector was attached to.
local server_end = {}

function itp.init()
    server_end = {}
end

local SERVER_WORDS = { INIT = true, JOINED = true, LEFT = true, NPM = true, PING = true, DSCN = true,
                       RECEIVE_PRIVATE_MSG = true }
local CLIENT_WORDS = { IDENT = true, USERS = true, PM = true, PRIVATE_MESSAGE = true, PONG = true, QUIT = true }

local function learn_side(pinfo, first_word)
    local src, dst, key = common.connection_ends(pinfo)
    if server_end[key] then return server_end[key] == src end
    if SERVER_WORDS[first_word] or (first_word and first_word:match("^FAIL%d%d$")) then
        server_end[key] = src
    elseif CLIENT_WORDS[first_word] then
        server_end[key] = dst
    elseif pinfo.match_uint == pinfo.src_port or pinfo.match_uint == pinfo.dst_port then
        server_end[key] = (pinfo.match_uint == pinfo.src_port) and src or dst
    else
        return nil
    end
    return server_end[key] == src
end

-- Standard padded base64 (§7.1, §7.2, §7.3); nil when the text is not exactly that.
local B64 = {}
do
    local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    for i = 1, #alphabet do B64[alphabet:byte(i)] = i - 1 end
end

local function base64_decode(s)
    if #s == 0 or #s % 4 ~= 0 or not s:match("^[A-Za-z0-9+/]+=?=?$") then return nil end
    local out, bits, nbits = {}, 0, 0
    local body = s:gsub("=+$", "")
    for i = 1, #body do
        bits = bits * 64 + B64[body:byte(i)]
        nbits = nbits + 6
        if nbits >= 8 then
            nbits = nbits - 8
            local byte = math.floor(bits / 2 ^ nbits)
            out[#out + 1] = string.char(byte)
            bits = bits - byte * 2 ^ nbits
        end
    end
    return table.concat(out)
end

-- One line being dissected: the tree under it, and the rule ids it breaks (for the Info column).
local Line = {}
Line.__index = Line

function Line:broke(rule, text)
    flag_rule(self.tree, self.rules, rule, text)
end

function Line:note(text)
    self.tree:add_proto_expert_info(advice, shown(text))
end

-- The rest of the line from word i on (text arguments keep their spaces, §4).
local function rest_from(s, words, i)
    local w = words[i]
    if not w then return nil end
    return s:sub(w.start + 1), w.start
end

local function valid_name(name)
    return name ~= nil and #name >= 3 and #name <= 14 and name:match("^[A-Za-z0-9_]+$") ~= nil
end

-- A key or body token (§7): the decoded bytes get a tab of their own so their parts can be highlighted.
local function add_token(line, range, token, what)
    local t = add(line.tree, F.token, range, token)
    local prefix, payload = token:match("^([%w]+)%.(.*)$")
    local legacy = not token:find(".", 1, true)
    if legacy then payload = token end
    local raw = payload and base64_decode(payload)
    if what == "pubkey" then
        add(t, F.token_kind, range, "base64 DER SubjectPublicKeyInfo")
        if not raw then
            line:broke("ITP-CRYPTO-01", "public key is not the base64 of a DER SubjectPublicKeyInfo")
            return
        end
        local keytvb = ByteArray.new(raw, true):tvb("itp public key")
        add(t, F.public_key, keytvb())
        add(t, F.token_len, keytvb(), #raw)
        return
    end
    local expected = (what == "sessionkey") and "oaep256" or "gcm"
    local rule = (what == "sessionkey") and "ITP-CRYPTO-03" or "ITP-CRYPTO-04"
    if legacy and raw then
        add(t, F.token_kind, range, "legacy (Java: RSA PKCS#1 v1.5 / AES-ECB), unauthenticated")
        add(t, F.token_len, range, #raw)
        line:note("legacy token: a client reads it only as unauthenticated (ITP-CRYPTO-05)")
        return
    end
    if prefix ~= expected or not raw then
        add(t, F.token_kind, range, "not a " .. expected .. " token")
        line:broke(rule, "expected \"" .. expected .. ".\" and standard base64")
        return
    end
    local bytes = ByteArray.new(raw, true):tvb("itp " .. expected .. " token")
    add(t, F.token_len, bytes(), #raw)
    if what == "sessionkey" then
        add(t, F.token_kind, range, "oaep256: RSA-OAEP-SHA256 wrapped AES-256 key")
        add(t, F.wrapped_key, bytes())
        return
    end
    add(t, F.token_kind, range, "gcm: AES-256-GCM nonce || ciphertext || tag")
    if #raw < 28 then
        line:broke(rule, "a gcm body has a 12-byte nonce and a 16-byte tag, this one decodes to " .. #raw .. " bytes")
        return
    end
    add(t, F.nonce, bytes(0, 12))
    if #raw > 28 then add(t, F.ciphertext, bytes(12, #raw - 28)) end
    add(t, F.ciphertext_len, #raw - 28):set_generated()
    add(t, F.tag, bytes(#raw - 16, 16))
end

-- Adds word i of the line as `field`; returns its text.
local function add_word(line, field, words, i)
    local w = words[i]
    if not w then return nil end
    if #w.text > 0 then
        add(line.tree, field, line.range(w.start, #w.text), w.text)
    else
        add(line.tree, field, w.text)
    end
    return w.text
end

local function add_rest(line, field, s, words, i)
    local rest, start = rest_from(s, words, i)
    if rest and #rest > 0 then add(line.tree, field, line.range(start, #rest), rest) end
    return rest, start
end

local function need(line, value, what, rule)
    if value == nil or value == "" then
        line:broke(rule or "ITP-CMD-01", "missing " .. what .. " (answered FAIL00)")
        return false
    end
    return true
end

local function check_name(line, name, rule)
    if name ~= nil and name ~= "" and not valid_name(name) then
        line:broke(rule, "name must be 3 to 14 of [A-Za-z0-9_]")
    end
end

-- Client to server (§4).
local function client_line(line, s, words, cmd)
    if cmd == "IDENT" then
        local name = add_word(line, F.name, words, 2)
        if name == nil or name == "" or #words > 2 then
            line:broke("ITP-IDENT-02", "IDENT needs exactly one name (answered FAIL02)")
        else
            check_name(line, name, "ITP-IDENT-02")
        end
    elseif cmd == "BCST" then
        local text = add_rest(line, F.text, s, words, 2)
        need(line, text, "text")
    elseif cmd == "PM" or cmd == "PRIVATE_MESSAGE" then
        add_word(line, F.to, words, 2)
        local body, start = rest_from(s, words, 3)
        if need(line, body, "recipient or body") then add_token(line, line.range(start, #body), body, "body") end
    elseif cmd == "PM_PUBKEY" then
        local key = words[2] and words[2].text
        if need(line, key, "key") then add_token(line, line.range(words[2].start, #key), key, "pubkey") end
    elseif cmd == "PM_SESSIONKEY" then
        add_word(line, F.to, words, 2)
        local key = words[3] and words[3].text
        if need(line, key, "recipient or key") then
            add_token(line, line.range(words[3].start, #key), key, "sessionkey")
        end
    elseif cmd == "OK" then
        local acked = add_word(line, F.acked, words, 2)
        if acked ~= "PM_PUBKEY" and acked ~= "PM_SESSIONKEY" then
            line:broke("ITP-CMD-01", "a client sends OK only to acknowledge PM_PUBKEY or PM_SESSIONKEY")
        end
    elseif cmd == "USERS" or cmd == "PONG" or cmd == "QUIT" then
        -- no arguments
    elseif CLIENT_WORDS[cmd:upper()] or cmd:upper() == "BCST" or cmd:upper():match("^PM_") then
        line:broke("ITP-CMD-02", "commands are case-sensitive (answered FAIL00)")
    else
        line:broke("ITP-CMD-01", "unknown command (answered FAIL00)")
    end
end

-- Server to client (§4, §8).
local function server_line(line, s, words, cmd)
    local code = cmd:match("^FAIL(%d%d)$")
    if code then
        code = tonumber(code)
        add(line.tree, F.fail_code, line.range(4, 2), code)
        local meaning = FAIL_MEANING[code]
        add(line.tree, F.fail_meaning, line.range(0, 6), meaning or "not a code of §8")
        add_rest(line, F.fail_text, s, words, 2)
        line.summary = line.summary .. " (" .. (meaning or "unknown code") .. ")"
        if not meaning then line:broke("ITP-ERR-01", string.format("FAIL%02d is not a code of §8", code)) end
    elseif cmd == "INIT" then
        local text = add_rest(line, F.text, s, words, 2)
        if not text or not text:match("^Welcome") then
            line:note("the greeting SHOULD begin with Welcome (ITP-CONN-02)")
        end
    elseif cmd == "OK" then
        local acked = add_word(line, F.acked, words, 2)
        if acked == "IDENT" then
            add_word(line, F.name, words, 3)
        elseif acked == "BCST" then
            add_rest(line, F.text, s, words, 3)
        elseif acked == "USERS" then
            local list, start = rest_from(s, words, 3)
            if list then
                local at = 1
                for name in (list .. ":"):gmatch("([^:]*):") do
                    if #name > 0 then add(line.tree, F.user, line.range(start + at - 1, #name), name) end
                    at = at + #name + 1
                end
            end
        elseif acked == "PM" or acked == "PRIVATE_MESSAGE" then
            add_word(line, F.to, words, 3)
            add_rest(line, F.text, s, words, 4)
        elseif acked == "PM_SESSIONKEY" then
            add_word(line, F.to, words, 3)
        elseif acked and acked:upper() == "GOODBYE" then
            -- §11 R5: any letter case
        elseif acked ~= "PM_PUBKEY" then
            line:broke("ITP-CMD-01", "OK for a command the client cannot have sent")
        end
    elseif cmd == "JOINED" or cmd == "LEFT" then
        need(line, add_word(line, F.name, words, 2), "name", "ITP-IDENT-05")
    elseif cmd == "BCST" then
        add_word(line, F.from, words, 2)
        add_rest(line, F.text, s, words, 3)
    elseif cmd == "NPM" or cmd == "RECEIVE_PRIVATE_MSG" then
        add_word(line, F.from, words, 2)
        local body, start = rest_from(s, words, 3)
        if need(line, body, "body", "ITP-PM-01") then add_token(line, line.range(start, #body), body, "body") end
    elseif cmd == "PM_PUBKEY" or cmd == "PM_SESSIONKEY" then
        add_word(line, F.from, words, 2)
        local key = words[3] and words[3].text
        if need(line, key, "key", cmd == "PM_PUBKEY" and "ITP-KEY-01" or "ITP-KEY-03") then
            add_token(line, line.range(words[3].start, #key), key, cmd == "PM_PUBKEY" and "pubkey" or "sessionkey")
        end
    elseif cmd == "PING" then
        -- answer PONG within the pong timeout (ITP-CLIENT-02)
    elseif cmd == "DSCN" then
        add_rest(line, F.reason, s, words, 2)
    else
        line:broke("§4", "not a server message of the grammar (a client ignores it, ITP-CLIENT-06)")
    end
end

local function dissect_line(tvb, offset, length, terminator, pinfo, tree, from_server, summaries)
    local range = tvb(offset, length + #terminator)
    local s = tvb:raw(offset, length)
    local line = setmetatable({ rules = {} }, Line)
    line.tree = tree:add(itp, range)
    line.range = function(at, n) return tvb(offset + at, n) end
    if length > 0 then add(line.tree, F.line, tvb(offset, length), s) end
    local words = common.split_words(s)
    local cmd = words[1] and words[1].text or ""
    local dir = common.direction(from_server)
    add(line.tree, F.direction, dir):set_generated()
    if #cmd > 0 then add(line.tree, F.command, tvb(offset, #cmd), cmd) end
    if #terminator > 0 then
        add(line.tree, F.terminator, tvb(offset + length, #terminator), common.terminator_text(terminator))
    end
    -- The Info column shows the line, shortened.
    line.summary = common.shortened(s, 60)
    if length == 0 then
        line.summary = "(empty line, ignored: ITP-FRAME-07)"
    elseif length > MAX_LINE then
        line:broke("ITP-FRAME-05", "line of " .. length .. " bytes, more than " .. MAX_LINE ..
            " (DSCN Unterminated message)")
    elseif from_server == true then
        server_line(line, s, words, cmd)
    elseif from_server == false then
        client_line(line, s, words, cmd)
    end
    if #terminator == 0 then
        if length <= MAX_LINE then line:note("no terminator yet: the rest of the line is not in the capture") end
    elseif from_server and terminator ~= "\n" then
        line:broke("ITP-FRAME-04", "the server ends every line with a single LF")
    elseif from_server == false and terminator == "\r" then
        line:broke("ITP-CLIENT-04", "a client ends its lines with LF or CRLF, not a lone CR")
    end
    summaries[#summaries + 1] = dir .. " " .. common.summarize(line.tree, line.summary, line.rules)
end

-- §3: LF, CRLF or a lone CR ends a line. Returns the terminator's offset and the terminator.
local function line_end(s, offset)
    local at = s:find("[\r\n]", offset + 1)
    if not at then return nil end
    if s:sub(at, at + 1) == "\r\n" then return at - 1, "\r\n" end
    return at - 1, s:sub(at, at)
end

-- Splits the segment into lines, asking TCP for more data while a line is unfinished and still within
-- the limit.
local dissect = common.message_dissector("itp", function(tvb, pinfo, tree, summaries)
    local s = tvb:raw()
    common.walk_lines(s, pinfo, line_end, MAX_LINE, function(offset, length, terminator)
        local from_server = learn_side(pinfo, s:sub(offset + 1, offset + length):match("^(%S*)"))
        dissect_line(tvb, offset, length, terminator, pinfo, tree, from_server, summaries)
    end)
end)

-- A connection is itp when its first line is the greeting or a login (§6.1, §6.2).
local function heuristic(tvb, pinfo, tree)
    if tvb:len() < 5 then return false end
    local head = tvb:raw(0, math.min(tvb:len(), 24))
    if not (head:match("^INIT [^\r\n]") or head:match("^IDENT [A-Za-z0-9_]+[\r\n]")) then return false end
    pinfo.conversation = itp
    dissect(tvb, pinfo, tree)
    return true
end

itp.dissector = dissect
DissectorTable.get("tcp.port"):add(1337, itp)
itp:register_heuristic("tcp", heuristic)
