"""securechat.ws_frame puts a message on the wire in WebSocket frames built by hand (parley-fuzz's frame
layer for securechat): what the reference server, a Boost.Beast one, does with them shows the frames are the
ones asked for. Fragments are reassembled into one message (RFC 6455 §5.4, spec §3.1); a frame that is not
masked, that sets an RSV bit, or that uses a reserved opcode fails the connection (§5.1, §5.2)."""

import pytest

from test_faults import run_cases

NOPE = '{"_command": "Nope", "id": "f-1"}'
ERROR_ANSWER = '"_command":"ErrorMessage"'


def case(case_id, frame, expect):
    steps = [{"securechat.login": {"conn": "a", "name": "${alice}"}},
             {"securechat.ws_frame": dict(conn="a", text=NOPE, **frame)},
             expect]
    return {"id": case_id, "rules": ["SC-CONN-01"], "description": f"{case_id}: a hand-built frame", "steps": steps}


def run(tmp_path, cases):
    return run_cases(tmp_path, "securechat", cases)


ANSWERED = {"expect": {"conn": "a", "match": ERROR_ANSWER, "skip": ['"AddUserMessage"']}}
CLOSED = {"expect_close": {"conn": "a"}}


def test_fragments_are_one_message_and_bad_frames_end_the_connection(tmp_path):
    cases = [case("three-fragments", {"fragments": 3}, ANSWERED),
             case("binary-in-two-fragments", {"opcode": 2, "fragments": 2}, ANSWERED),
             case("unmasked", {"mask": 0}, CLOSED),
             case("rsv-bit", {"rsv": 4}, CLOSED),
             case("reserved-opcode", {"opcode": 3}, CLOSED)]
    proc, verdicts = run(tmp_path, cases)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(verdicts.values()) == {"PASS"} and len(verdicts) == 5, verdicts


def test_a_frame_the_server_must_refuse_is_not_answered(tmp_path):
    """The same expectation fails when the frame is one the server must refuse: the step really sends what
    it is told to, not a well-formed message whatever its arguments."""
    proc, verdicts = run(tmp_path, [case("unmasked-expects-an-answer", {"mask": 0}, ANSWERED),
                                    case("declared-too-long-expects-an-answer", {"len_delta": 1}, ANSWERED)])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert verdicts == {"unmasked-expects-an-answer": "FAIL", "declared-too-long-expects-an-answer": "FAIL"}, verdicts
