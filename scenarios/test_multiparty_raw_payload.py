"""multiparty.send's `payload_hex` and `len` (parley-fuzz's bytes behind the tag): the payload is sealed as
exactly the bytes written in hex, and `len` is the header's length as written. What the reference server
answers shows the frames are the ones asked for: a uid written as hex bytes is read as that uid, bytes that
are no uid are a malformed request (MP-ERR-03), and a stated len under the smallest frame, or one past the
frame's end, closes the connection (MP-MTP-03)."""

from test_faults import run_cases


def case(case_id, send, expect):
    steps = [{"multiparty.login": {"conn": "a", "user": "${alice}"}},
             {"multiparty.send": dict(conn="a", type="status_req", **send)},
             expect]
    return {"id": case_id, "rules": ["MP-ERR-03"], "description": f"{case_id}: raw payload bytes", "steps": steps}


def run(tmp_path, cases):
    return run_cases(tmp_path, "multiparty", cases)


def status(answer):
    return {"expect": {"conn": "a", "match": r"^status_res sid=0{16} uid=0{16} \| " + answer + "$"}}


CLOSED = {"expect_close": {"conn": "a", "within": 2000}}
ZERO_UID_HEX = "30" * 16  # the sixteen ASCII digits "0000000000000000"


def test_hex_bytes_are_the_payload_and_len_is_as_written(tmp_path):
    cases = [case("uid-as-hex-bytes", {"payload_hex": ZERO_UID_HEX}, status("unknown user 0{16}")),
             case("binary-bytes", {"payload_hex": "ff00c3" + ZERO_UID_HEX[6:]}, status("malformed request")),
             case("len-under-the-header", {"len": 23}, CLOSED),
             case("len-past-the-frame", {"payload_hex": ZERO_UID_HEX, "len": 65535},
                  {"expect_silence": {"conn": "a", "ms": 300}})]
    proc, verdicts = run(tmp_path, cases)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(verdicts.values()) == {"PASS"} and len(verdicts) == 4, verdicts


def test_the_bytes_decide_the_answer(tmp_path):
    """The same expectations fail when the bytes say otherwise: the hex is not sent as text, nor
    replaced by a well-formed payload."""
    proc, verdicts = run(tmp_path, [
        case("binary-expects-unknown-user", {"payload_hex": "ff" + ZERO_UID_HEX[2:]}, status("unknown user 0{16}")),
        case("short-len-expects-an-answer", {"len": 23}, status("Online"))])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert verdicts == {"binary-expects-unknown-user": "FAIL", "short-len-expects-an-answer": "FAIL"}, verdicts
