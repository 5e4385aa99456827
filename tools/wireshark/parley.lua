-- Loads Parley's five Wireshark dissectors from the folder this file is in:
--   tshark -X lua_script:tools/wireshark/parley.lua -r capture.pcap
-- or copy the whole folder into Wireshark's personal Lua plugins folder (Help > About > Folders). Wireshark
-- then loads every .lua file in it by itself; each protocol file registers only once, so this loader does
-- no harm there.

local PROTOCOLS = { "itp", "securechat", "multiparty", "sslmessager", "peerchat" }

-- This file's folder, from the path Wireshark loaded it by ("@tools/wireshark/parley.lua").
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or ""

local failures = {}
for _, name in ipairs(PROTOCOLS) do
    local ok, err = pcall(dofile, here .. name .. ".lua")
    if not ok then failures[#failures + 1] = name .. ".lua: " .. tostring(err) end
end
-- One broken file should not keep the others from working, but it must not go unnoticed either.
if #failures > 0 then
    error("parley.lua could not load:\n" .. table.concat(failures, "\n"), 0)
end
