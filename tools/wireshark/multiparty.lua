-- Wireshark dissector for Parley's multiparty (spec/multiparty/spec.md): binary MTP frames over TCP, port
-- 5150, and any other port through a heuristic that recognises a connection by its login frames.
--
-- The header follows the spec (§4.1): ver (major, minor), typ, len, sqn, sid, uid: 24 bytes. The issue
-- that asked for this dissector described an older draft's "rnd" and "reserved" header fields; Parley's
-- spec replaced them with sid and uid, and this dissector follows the spec. Payloads are AES-GCM
-- encrypted (§5), so a frame shows its header, the epd's length, the 12-byte tag (the MAC) and, in a
-- login_req, the RSA-wrapped transport key etk. Frames are reassembled across TCP segments (§3).

-- The helpers the five dissectors share, from parley_common.lua next to this file (why _G: see there).
local common = _G.parley_common or dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "") ..
    "parley_common.lua")
if not common.first_registration("multiparty") then return end -- however often this file is loaded

local mp = Proto("multiparty", "Parley multiparty chat protocol (MTP)")

local HEADER, TAG, MIN_FRAME = 24, 12, 36 -- §4.1, §3

local TYPES = { -- §4.2
    [0x0000] = "init_req", [0x0010] = "init_res",
    [0x0100] = "close_req", [0x0110] = "close_res",
    [0x0200] = "msg_req", [0x0210] = "msg_res",
    [0x0300] = "invite_req", [0x0310] = "invite_res",
    [0x0400] = "status_req", [0x0410] = "status_res",
    [0x0500] = "login_req", [0x0510] = "login_res",
}
local LOGIN_REQ, LOGIN_RES = 0x0500, 0x0510
local SERVER_ONLY = { [0x0010] = true, [0x0110] = true, [0x0300] = true, [0x0510] = true } -- MP-MTP-06
local CLIENT_ONLY = { [0x0000] = true, [0x0500] = true }
-- Frames that concern no session carry sid 0 (§4.3, MP-MTP-11).
local NO_SESSION = { [0x0000] = true, [0x0400] = true, [0x0410] = true, [0x0500] = true, [0x0510] = true }
-- The server's own messages carry uid 0 (MP-MTP-10).
local SERVER_OWN = { [0x0010] = true, [0x0110] = true, [0x0400] = true, [0x0410] = true, [0x0510] = true }

local F = {
    version = ProtoField.string("multiparty.version", "Version"),
    major = ProtoField.uint8("multiparty.ver.major", "Major version", base.DEC),
    minor = ProtoField.uint8("multiparty.ver.minor", "Minor version", base.DEC),
    typ = ProtoField.uint16("multiparty.typ", "Type", base.HEX, TYPES),
    typ_name = ProtoField.string("multiparty.typ_name", "Type name"),
    len = ProtoField.uint16("multiparty.len", "Length", base.DEC),
    sqn = ProtoField.uint16("multiparty.sqn", "Sequence number", base.DEC),
    sid = ProtoField.bytes("multiparty.sid", "Session id"),
    uid = ProtoField.bytes("multiparty.uid", "User id"),
    direction = ProtoField.string("multiparty.direction", "Direction"),
    epd = ProtoField.bytes("multiparty.epd", "Encrypted payload (epd)"),
    epd_len = ProtoField.uint16("multiparty.epd_len", "Encrypted payload length", base.DEC),
    tag = ProtoField.bytes("multiparty.tag", "MAC (AES-GCM tag, 96 bits)"),
    etk = ProtoField.bytes("multiparty.etk", "Encrypted transport key (etk, RSA-OAEP)"),
    etk_len = ProtoField.uint16("multiparty.etk_len", "etk length", base.DEC),
    expected_sqn = ProtoField.uint16("multiparty.expected_sqn", "Expected sequence number", base.DEC),
    trailing = ProtoField.bytes("multiparty.trailing", "Bytes a receiver never reads (it has closed)"),
    rule = ProtoField.string("multiparty.rule", "Broken rule"),
}
mp.fields = F

local broken = ProtoExpert.new("multiparty.rule_broken", "multiparty rule broken", expert.group.PROTOCOL,
    expert.severity.WARN)
local malformed = ProtoExpert.new("multiparty.malformed", "multiparty frame malformed", expert.group.MALFORMED,
    expert.severity.WARN)
mp.experts = { broken, malformed }
local flag_rule = common.rule_flagger(F.rule, broken)

mp.prefs.server_key_bytes = Pref.uint("Server RSA key size (bytes)", 256,
    "kS, the length of etk at the end of a login_req: 256 for RSA-2048 (parley-conform keys' default), " ..
    "384 for RSA-3072, 512 for RSA-4096 (§6.3)")

-- Per capture: which end of each connection is the server, the next sqn of each direction, and whether a
-- direction has logged in. Results that depend on earlier frames are kept per frame, so that Wireshark's
-- later, out-of-order visits show what the first pass found.
local server_end, next_sqn, logged_in, pending, verdicts, stream_end_notes = {}, {}, {}, {}, {}, {}

function mp.init()
    server_end, next_sqn, logged_in, pending, verdicts, stream_end_notes = {}, {}, {}, {}, {}, {}
end

-- true: this frame comes from the server; false: from the client; nil: not known yet.
local function from_server(pinfo, typ)
    local src, dst, key = common.connection_ends(pinfo)
    if not server_end[key] then
        if SERVER_ONLY[typ] then server_end[key] = src
        elseif CLIENT_ONLY[typ] then server_end[key] = dst
        elseif pinfo.match_uint == pinfo.src_port then server_end[key] = src
        elseif pinfo.match_uint == pinfo.dst_port then server_end[key] = dst
        else return nil end
    end
    return server_end[key] == src
end

local function hex(tvbrange)
    return tostring(tvbrange:bytes()):lower()
end

-- Checks of one frame that need the frames before it (§4.4 steps 2-4, §5.4). Run once, in the first pass.
local function sequence_checks(pinfo, typ, sqn, server)
    local src, _, key = common.connection_ends(pinfo)
    local dir = key .. ">" .. src
    local found = {}
    if server == nil then return found end
    if server and CLIENT_ONLY[typ] then
        found[#found + 1] = { "MP-MTP-06", TYPES[typ] .. " is sent by clients only" }
    elseif not server and SERVER_ONLY[typ] then
        found[#found + 1] = { "MP-MTP-06", TYPES[typ] .. " is sent by the server only" }
    end
    if not logged_in[dir] then
        local login = server and LOGIN_RES or LOGIN_REQ
        logged_in[dir] = true
        if typ ~= login and sqn > 1 then
            -- the capture began after the login: judge the sequence from this frame on
            next_sqn[dir] = sqn
        elseif typ ~= login then
            found[#found + 1] = { server and "MP-CLIENT-01" or "MP-LOGIN-01",
                "the first frame of a connection is the " .. TYPES[login] }
        end
    elseif typ == LOGIN_REQ then
        found[#found + 1] = { "MP-LOGIN-15", "a login_req on a connection that has logged in" }
    end
    local expected = next_sqn[dir] or 1
    if sqn ~= expected then
        found[#found + 1] = { "MP-MTP-07", "sqn " .. sqn .. ", expected " .. expected }
        found.expected = expected
    end
    next_sqn[dir] = sqn + 1
    return found
end

-- One frame: `length` bytes of tvb from `offset`, or everything left when its len cannot be trusted.
local function dissect_frame(tvb, offset, length, pinfo, tree, summaries)
    local frame = tvb(offset, length)
    local t = tree:add(mp, frame)
    local rules = {}
    local function broke(rule, text, expert_kind)
        flag_rule(t, rules, rule, text, expert_kind)
    end

    local major, minor = tvb(offset, 1):uint(), tvb(offset + 1, 1):uint()
    local typ, len, sqn = tvb(offset + 2, 2):uint(), tvb(offset + 4, 2):uint(), tvb(offset + 6, 2):uint()
    local sid, uid = tvb(offset + 8, 8), tvb(offset + 16, 8)
    local name = TYPES[typ] or string.format("unknown 0x%04x", typ)
    local server = from_server(pinfo, typ)

    local h = t:add(mp, tvb(offset, HEADER), "Header")
    h:add(F.version, tvb(offset, 2), major .. "." .. minor)
    h:add(F.major, tvb(offset, 1))
    h:add(F.minor, tvb(offset + 1, 1))
    h:add(F.typ, tvb(offset + 2, 2))
    h:add(F.typ_name, tvb(offset + 2, 2), name)
    h:add(F.len, tvb(offset + 4, 2))
    h:add(F.sqn, tvb(offset + 6, 2))
    h:add(F.sid, sid)
    h:add(F.uid, uid)
    t:add(F.direction, common.direction(server)):set_generated()

    if major ~= 1 then broke("MP-MTP-02", "major version " .. major .. ", a receiver closes unless it is 1") end
    if not TYPES[typ] then broke("MP-MTP-05", "typ 0x" .. string.format("%04x", typ) .. " is not in §4.2") end

    local kS = mp.prefs.server_key_bytes
    local etk_len = (typ == LOGIN_REQ) and kS or 0
    if len < MIN_FRAME then
        broke("MP-MTP-03", "len " .. len .. " is below 36: the receiver closes the connection", malformed)
    elseif typ == LOGIN_REQ and len < MIN_FRAME + kS then
        broke("MP-MTP-03", "a login_req is at least 36 + kS = " .. (MIN_FRAME + kS) .. " bytes, len says " .. len ..
            " (kS is a preference)", malformed)
    elseif length == len then
        local epd_len = len - HEADER - TAG - etk_len
        if epd_len > 0 then t:add(F.epd, tvb(offset + HEADER, epd_len)) end
        t:add(F.epd_len, epd_len):set_generated()
        t:add(F.tag, tvb(offset + HEADER + epd_len, TAG))
        if etk_len > 0 then
            t:add(F.etk, tvb(offset + HEADER + epd_len + TAG, etk_len))
            t:add(F.etk_len, etk_len):set_generated()
        end
    end
    if length > HEADER and (len < MIN_FRAME or length ~= len) then
        t:add(F.trailing, tvb(offset + HEADER, length - HEADER))
    end

    -- §4.3: what sid and uid must be, where the rule is about the frame alone.
    local sid_zero, uid_zero = sid:bytes():tohex() == "0000000000000000", uid:bytes():tohex() == "0000000000000000"
    if typ == LOGIN_REQ and (sqn ~= 1 or not sid_zero) then
        broke("MP-LOGIN-02", "a login_req has sqn 1 and sid 0")
    elseif typ == LOGIN_RES and (sqn ~= 1 or not sid_zero or not uid_zero) then
        broke("MP-LOGIN-13", "a login_res has sqn 1, sid 0 and uid 0")
    elseif NO_SESSION[typ] and not sid_zero then
        broke("MP-MTP-11", name .. " concerns no session: its sid is 0")
    end
    if server and SERVER_OWN[typ] and not uid_zero and typ ~= LOGIN_RES then
        broke("MP-MTP-10", "the server writes uid 0 in its own " .. name)
    end

    local key = pinfo.number .. ":" .. offset .. ":" .. tvb:len()
    if not pinfo.visited and TYPES[typ] and len >= MIN_FRAME then
        verdicts[key] = sequence_checks(pinfo, typ, sqn, server)
    end
    local found = verdicts[key] or {}
    for _, f in ipairs(found) do broke(f[1], f[2]) end
    if found.expected then t:add(F.expected_sqn, found.expected):set_generated() end

    local summary = string.format("%s sqn=%d len=%d", name, sqn, len)
    if not sid_zero then summary = summary .. " sid=" .. hex(sid) end
    if not uid_zero then summary = summary .. " uid=" .. hex(uid) end
    summary = common.summarize(t, summary, rules)
    summaries[#summaries + 1] = (server == nil) and summary or (common.direction(server) .. " " .. summary)
end

local function note_pending(pinfo, need)
    local src, _, key = common.connection_ends(pinfo)
    if not pinfo.visited then pending[key .. ">" .. src] = need end
end

-- Walks the frames of a segment by their len fields (§3), asking TCP for the rest of an unfinished frame.
-- A header whose len is below 36 ends the walk: the receiver closes there, so the bytes after it are no
-- frames; they are shown with the frame that broke the rule.
local function dissect_frames(tvb, pinfo, tree, summaries)
    local total = tvb:len()
    local offset = 0
    note_pending(pinfo, nil)
    while offset < total do
        local left = total - offset
        if left < HEADER then
            if pinfo.can_desegment > 0 then
                common.ask_for_more(pinfo, offset)
                note_pending(pinfo, { have = left })
                break
            end
            flag_rule(tree:add(mp, tvb(offset, left), "Part of a header"), nil, "MP-MTP-03",
                left .. " bytes, shorter than a header: the stream ends inside a frame", malformed)
            summaries[#summaries + 1] = "part of a header [MP-MTP-03]"
            break
        end
        local len = tvb(offset + 4, 2):uint()
        if len < MIN_FRAME then
            dissect_frame(tvb, offset, left, pinfo, tree, summaries)
            break
        end
        if left < len then
            if pinfo.can_desegment > 0 then
                common.ask_for_more(pinfo, offset, len - left)
                note_pending(pinfo, { len = len, have = left })
                break
            end
            dissect_frame(tvb, offset, left, pinfo, tree, summaries)
            break
        end
        dissect_frame(tvb, offset, len, pinfo, tree, summaries)
        offset = offset + len
    end
end

local dissect = common.message_dissector("multiparty", dissect_frames)

-- A stream that ends (FIN or RST) while a frame is unfinished had a len larger than what followed (§3):
-- the receiver waits for bytes that never come and closes. TCP never hands those bytes to the dissector,
-- so a post-dissector watches the ends of multiparty streams and says so on the FIN.
local stream_end = Proto("multiparty_eos", "Parley multiparty end-of-stream check")
local tcp_fin = Field.new("tcp.flags.fin")
local tcp_rst = Field.new("tcp.flags.reset")

function stream_end.dissector(tvb, pinfo, tree)
    local note = stream_end_notes[pinfo.number]
    if not pinfo.visited and note == nil then
        local fin, rst = tcp_fin(), tcp_rst()
        if (fin and fin.value) or (rst and rst.value) then
            local src, _, key = common.connection_ends(pinfo)
            local p = pending[key .. ">" .. src]
            if p then
                note = p.len and string.format("the stream ends inside a frame: len %d, only %d bytes followed " ..
                    "the header's start", p.len, p.have) or
                    string.format("the stream ends %d bytes into a header", p.have)
                pending[key .. ">" .. src] = nil
            end
        end
        stream_end_notes[pinfo.number] = note or false
    end
    if note then
        flag_rule(tree:add(mp, tvb(0, 0), "End of stream"), nil, "MP-MTP-03", note, malformed)
        pinfo.cols.info:append(" [multiparty: " .. note .. ", MP-MTP-03]")
    end
end

-- A connection is multiparty when it starts with a login_req (C→S) or a login_res (S→C): version 1,
-- sqn 1, sid 0 (§6.3, §6.5).
local function heuristic(tvb, pinfo, tree)
    if tvb:len() < HEADER then return false end
    local typ, len = tvb(2, 2):uint(), tvb(4, 2):uint()
    if tvb(0, 1):uint() ~= 1 or (typ ~= LOGIN_REQ and typ ~= LOGIN_RES) or len < MIN_FRAME
        or tvb(6, 2):uint() ~= 1 or tvb(8, 8):bytes():tohex() ~= "0000000000000000" then
        return false
    end
    pinfo.conversation = mp
    dissect(tvb, pinfo, tree)
    return true
end

mp.dissector = dissect
DissectorTable.get("tcp.port"):add(5150, mp)
mp:register_heuristic("tcp", heuristic)
register_postdissector(stream_end)
