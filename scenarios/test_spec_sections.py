"""Every rule in spec/<p>/rules.json names the spec section it is stated in (reports group and select rules
by it: --section, JUnit classnames, the HTML summary): the numbered heading above the rule's first tag in
spec/<p>/spec.md."""
import json
import os
import re

import pytest

from conftest import REPO

PROTOCOLS = ["itp", "securechat", "multiparty", "sslmessager", "peerchat"]
HEADING = re.compile(r"^#{2,4} (\d[\d.]*?)\.? +(.*)$", re.M)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_rule_names_the_section_it_is_stated_in(protocol):
    spec = open(os.path.join(REPO, "spec", protocol, "spec.md")).read()
    rules = json.load(open(os.path.join(REPO, "spec", protocol, "rules.json")))["rules"]
    headings = [(m.start(), f"{m.group(1)} {m.group(2).strip()}") for m in HEADING.finditer(spec)]
    wrong = []
    for rule in rules:
        tags = [m.start() for m in re.finditer(re.escape(f"[{rule['id']}]"), spec)]
        stated = next((h for at in tags for h in reversed(headings) if h[0] < at), None)
        if stated is None or rule.get("section") != stated[1]:
            wrong.append((rule["id"], rule.get("section"), stated and stated[1]))
    assert not wrong, wrong
