"""Conditional reads (openapi.yaml, "Conventions"): the lists the admin page polls
answer with an ETag, and 304 without a body while the answer would be the same.
"""

from __future__ import annotations

import httpx
import pytest
from contract import unique

from cyme_branch import etags

LISTS = ["/", "/{app}/instances", "/{app}/instances?details=true", "/{app}/queues?details=true"]


@pytest.mark.parametrize("path", LISTS)
def test_a_list_is_304_while_it_is_the_same(client: httpx.Client, app: str, path: str):
    target = path.format(app=app)
    first = client.get(target)
    assert first.status_code == 200
    tag = first.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"')
    again = client.get(target, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert "content-type" not in again.headers
    assert again.headers["x-request-id"]
    # Another tag, or none, gets the whole answer.
    assert client.get(target, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(target).content == first.content


def test_a_change_changes_the_tag(client: httpx.Client, app: str):
    target = f"/{app}/instances?details=true"
    before = client.get(target).headers["etag"]
    name = unique("w")
    assert client.post(f"/{app}/instances/{name}").status_code == 201
    after = client.get(target, headers={"If-None-Match": before})
    assert after.status_code == 200
    assert [i["name"] for i in after.json()] == [name]
    assert after.headers["etag"] != before
    client.put(f"/{app}/instances/{name}/autoscale", json={"min": 2, "max": 3})
    scaled = client.get(target, headers={"If-None-Match": after.headers["etag"]})
    assert scaled.status_code == 200
    assert scaled.json()[0]["processes"] == 2


def test_details_and_names_have_their_own_tags(client: httpx.Client, app: str):
    client.post(f"/{app}/instances/{unique('w')}")
    names = client.get(f"/{app}/instances").headers["etag"]
    details = client.get(f"/{app}/instances", params={"details": "true"}).headers["etag"]
    assert names != details
    answer = client.get(f"/{app}/instances", headers={"If-None-Match": details})
    assert answer.status_code == 200


def test_weak_lists_and_star_match(client: httpx.Client, app: str):
    tag = client.get("/").headers["etag"]
    for sent in (f"W/{tag}", f'"a", {tag}', "*"):
        assert client.get("/", headers={"If-None-Match": sent}).status_code == 304, sent


def test_other_reads_carry_no_tag(client: httpx.Client, app: str):
    for path in (f"/{app}", "/branches", "/openapi.yaml"):
        answer = client.get(path, headers={"If-None-Match": "*"})
        assert answer.status_code == 200
        assert "etag" not in answer.headers


def test_problems_carry_no_tag(client: httpx.Client):
    missing = client.get(f"/{unique('missing')}/instances", headers={"If-None-Match": "*"})
    assert missing.status_code == 404
    assert "etag" not in missing.headers


def test_tags_are_of_the_bytes():
    assert etags.tag(b"[]") == etags.tag(b"[]")
    assert etags.tag(b"[]") != etags.tag(b'["a"]')
    assert not etags.matches(None, etags.tag(b"[]"))
    assert not etags.matches("", etags.tag(b"[]"))
    assert etags.matches(f" W/{etags.tag(b'[]')} ", etags.tag(b"[]"))
