-- What Parley's five Wireshark dissectors share: showing wire bytes as UTF-8, flagging broken rules, the
-- Info column, the ends of a connection, lines and words, and registering each protocol once. It
-- registers no protocol itself.
--
-- Each protocol file gets this module with
--     local common = _G.parley_common or dofile(<the file's own folder> .. "parley_common.lua")
-- Wireshark runs every .lua file of a plugins folder, this one too, each with an environment of its own
-- (its lookups fall through to the globals) and in an order one cannot rely on; parley.lua runs the
-- protocol files with dofile, in the globals themselves. So the module keeps itself in the real globals,
-- _G, where every file finds it whichever came first, and a second run of this file hands back the first
-- one's module: the protocols registered so far are recorded in it.
if _G.parley_common then return _G.parley_common end

local common = {}

-- ---------------------------------------------------------------------------------------------- loading

local registered = {}

-- true the first time a protocol file asks for `name`, false after that: each protocol is registered once,
-- however often Wireshark and parley.lua load its file.
function common.first_registration(name)
    if registered[name] then return false end
    registered[name] = true
    return true
end

-- ---------------------------------------------------------------------------------------------- text

-- What Wireshark shows (field values, the Info column, expert texts) is UTF-8, and wire bytes need not
-- be: a byte that starts no valid UTF-8 sequence is shown as U+FFFD, as Wireshark shows such bytes itself.
local function sequence_length(s, i)
    local c = s:byte(i)
    if c < 0x80 then return 1 end
    -- The lead byte gives the length; the second byte's range rules out overlong forms, surrogates and
    -- code points past U+10FFFF (RFC 3629).
    local n, low, high
    if c >= 0xC2 and c <= 0xDF then n, low, high = 2, 0x80, 0xBF
    elseif c == 0xE0 then n, low, high = 3, 0xA0, 0xBF
    elseif c == 0xED then n, low, high = 3, 0x80, 0x9F
    elseif c >= 0xE1 and c <= 0xEF then n, low, high = 3, 0x80, 0xBF
    elseif c == 0xF0 then n, low, high = 4, 0x90, 0xBF
    elseif c >= 0xF1 and c <= 0xF3 then n, low, high = 4, 0x80, 0xBF
    elseif c == 0xF4 then n, low, high = 4, 0x80, 0x8F
    else return nil end
    for k = 1, n - 1 do
        local b = s:byte(i + k)
        if not b or b < (k == 1 and low or 0x80) or b > (k == 1 and high or 0xBF) then return nil end
    end
    return n
end

-- `s` as Wireshark may show it; anything that is not a string passes unchanged.
function common.shown(s)
    if type(s) ~= "string" or not s:find("[\128-\255]") then return s end
    local out, i = {}, 1
    while i <= #s do
        local n = sequence_length(s, i)
        out[#out + 1] = n and s:sub(i, i + n - 1) or "\239\191\189"
        i = i + (n or 1)
    end
    return table.concat(out)
end

-- tree:add(field, ...), with string values as shown().
function common.add(tree, field, ...)
    local args, n = { ... }, select("#", ...)
    for i = 1, n do args[i] = common.shown(args[i]) end
    return tree:add(field, (table.unpack or unpack)(args, 1, n))
end

-- `text` cut to at most `max` bytes, the cut marked with "...".
function common.shortened(text, max)
    return (#text > max) and (text:sub(1, max - 3) .. "...") or text
end

-- A line ending's bytes by name, e.g. "SP CR LF", for the tree.
function common.terminator_text(ending)
    return (ending:gsub(" ", "SP "):gsub("\r", "CR "):gsub("\n", "LF "):gsub(" $", ""))
end

-- ---------------------------------------------------------------------------------------------- rules

-- A function that flags a broken rule on a message's tree item: an expert info whose text ends with the
-- rule id (`default_expert` unless the call names another), the id as the generated field `rule_field`
-- (filter `<protocol>.rule == "..."`), and the id added to `rules` for the Info column (if given).
function common.rule_flagger(rule_field, default_expert)
    return function(item, rules, rule, text, expert_info)
        item:add_proto_expert_info(expert_info or default_expert, common.shown(text .. " [" .. rule .. "]"))
        common.add(item, rule_field, rule):set_generated()
        if rules then rules[#rules + 1] = rule end
    end
end

-- Ends a message's dissection: its tree item shows the summary; returned is the summary with the ids
-- of the rules the message broke, as the Info column shows it.
function common.summarize(item, summary, rules)
    item:append_text(common.shown(": " .. summary))
    if #rules > 0 then summary = summary .. " [" .. table.concat(rules, ", ") .. "]" end
    return summary
end

-- ---------------------------------------------------------------------------------------------- packets

-- The packet's two ends ("address:port", source first) and a key naming its connection either way.
function common.connection_ends(pinfo)
    local a = tostring(pinfo.src) .. ":" .. pinfo.src_port
    local b = tostring(pinfo.dst) .. ":" .. pinfo.dst_port
    return a, b, (a < b) and (a .. "|" .. b) or (b .. "|" .. a)
end

-- How the tree and the Info column name a packet's direction; nil: not known.
function common.direction(from_server)
    if from_server == nil then return "?" end
    return from_server and "S→C" or "C→S"
end

-- For protocols whose client speaks first: whether this packet comes from the client. The sender of a
-- connection's first packet is its client, unless `server_only` says that packet is one only a server
-- sends. `client_end` keeps each connection's client end for the capture. Also returned: the connection's
-- key and the packet's source end.
function common.from_client(client_end, pinfo, server_only)
    local src, dst, key = common.connection_ends(pinfo)
    if not client_end[key] then client_end[key] = server_only and dst or src end
    return client_end[key] == src, key, src
end

-- For heuristics that recognise a connection by its first message and then take every later one, so that
-- malformed ones are shown and flagged too: whether the packet's connection is recognised, asking
-- `starts_connection()` only while it is not. `known` keeps the recognised connections for the capture.
function common.recognised(known, pinfo, starts_connection)
    local _, _, key = common.connection_ends(pinfo)
    if not known[key] then
        if not starts_connection() then return false end
        known[key] = true
    end
    return true
end

-- A function that sets the Info column of one protocol. TCP (or TLS) may call a dissector several times
-- for one frame (a reassembled message, then the rest of the segment); each call's text is then appended.
local function info_setter()
    local last = { frame = -1 }
    return function(pinfo, text)
        if last.frame == pinfo.number and tostring(pinfo.cols.info) == last.text then
            pinfo.cols.info:append(common.shown("; " .. text))
        else
            pinfo.cols.info = common.shown(text)
        end
        last.frame, last.text = pinfo.number, tostring(pinfo.cols.info)
    end
end

-- A dissector for the protocol `name`: `dissect_messages(tvb, pinfo, tree, summaries)` dissects the
-- messages of a non-empty payload and adds a summary of each to `summaries`; the Info column shows them.
function common.message_dissector(name, dissect_messages)
    local set_info = info_setter()
    return function(tvb, pinfo, tree)
        local length = tvb:len()
        if length == 0 then return 0 end
        pinfo.cols.protocol = name
        local summaries = {}
        dissect_messages(tvb, pinfo, tree, summaries)
        if #summaries > 0 then set_info(pinfo, table.concat(summaries, "; ")) end
        return length
    end
end

-- Asks TCP for more of the stream from `offset` on: `how_many` bytes, or one more segment.
function common.ask_for_more(pinfo, offset, how_many)
    pinfo.desegment_offset = offset
    pinfo.desegment_len = how_many or DESEGMENT_ONE_MORE_SEGMENT
end

-- ---------------------------------------------------------------------------------------------- lines

-- Walks the lines of a TCP segment `s`. `line_end(s, offset)` gives where the line from `offset` ends
-- (the 0-based offset of its terminator) and its terminator, or nil when no terminator has come yet: then
-- TCP is asked for more while the unfinished line is at most `max_unfinished` bytes, and past that the
-- line is taken as it is, with no terminator. `dissect_line(offset, length, terminator)` does each line.
function common.walk_lines(s, pinfo, line_end, max_unfinished, dissect_line)
    local offset = 0
    while offset < #s do
        local stop, terminator = line_end(s, offset)
        if not stop then
            if #s - offset <= max_unfinished and pinfo.can_desegment > 0 then
                return common.ask_for_more(pinfo, offset)
            end
            stop, terminator = #s, ""
        end
        dissect_line(offset, stop - offset, terminator)
        offset = stop + #terminator
    end
end

-- The words of a line, split at single spaces: each its text and its 0-based offset into the line.
function common.split_words(s)
    local words, at = {}, 1
    while at <= #s do
        local sp = s:find(" ", at, true) or (#s + 1)
        words[#words + 1] = { text = s:sub(at, sp - 1), start = at - 1 }
        at = sp + 1
    end
    return words
end

_G.parley_common = common
return common
