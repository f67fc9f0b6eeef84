"""The crawlers a user would write by hand, to compare the scanner with.

Each reads every trained model version the way the AWS SDK docs suggest, with nothing
clever: list memberships, list each membership's models, list each model's versions, get
each version. They differ only in concurrency and in botocore's retry mode:

* ``sequential``: one call at a time, botocore's default retries (``legacy``, 5 attempts).
* ``gather``: ``asyncio.gather`` under a semaphore of ``--concurrency`` calls, with
  ``Config(retries={"mode": MODE})`` (``standard``: 3 attempts; ``adaptive``: 3 attempts and
  botocore's client-side rate limiter).
* ``bare``: only ``get_trained_model`` over a list of versions known up front, with a
  default aiobotocore client, ``--concurrency`` in flight: the SDK's own cost per call.

Run as a child process (the harness measures its CPU and RSS); the endpoint comes from
``AWS_ENDPOINT_URL_CLEANROOMS[ML]``. On SIGTERM prints ``{"read": N, "stopped": true}`` and
exits. Otherwise prints one JSON line: ``{"read": N, "failed": M,
"cpu": S}``, ``cpu`` being this process's CPU seconds for the crawl alone (client creation
included, interpreter start and imports not).

    .venv/bin/python -m bench.alternatives gather --mode standard --concurrency 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import time
from typing import Any

import aioboto3
import aiobotocore.session
from botocore.config import Config


async def _memberships(cleanrooms: Any) -> list[str]:
    ids = []
    async for page in cleanrooms.get_paginator("list_memberships").paginate(status="ACTIVE"):
        ids.extend(summary["id"] for summary in page["membershipSummaries"])
    return ids


async def _models(cleanroomsml: Any, membership: str) -> list[tuple[str, str]]:
    paginator = cleanroomsml.get_paginator("list_trained_models")
    models = []
    async for page in paginator.paginate(membershipIdentifier=membership):
        models.extend((membership, model["trainedModelArn"]) for model in page["trainedModels"])
    return models


async def _versions(cleanroomsml: Any, membership: str, arn: str) -> list[tuple[str, str, str]]:
    paginator = cleanroomsml.get_paginator("list_trained_model_versions")
    versions = []
    async for page in paginator.paginate(membershipIdentifier=membership, trainedModelArn=arn):
        versions.extend((membership, arn, v["versionIdentifier"]) for v in page["trainedModels"])
    return versions


# Documents read so far: what a run stopped by SIGTERM (it ran too long) reports.
READ = [0]


async def _get(cleanroomsml: Any, membership: str, arn: str, version: str) -> dict[str, Any]:
    document: dict[str, Any] = await cleanroomsml.get_trained_model(
        membershipIdentifier=membership, trainedModelArn=arn, versionIdentifier=version
    )
    READ[0] += 1
    return document


async def sequential() -> dict[str, int]:
    """One call after another, every SDK default."""
    session = aioboto3.Session()
    read = failed = 0
    async with session.client("cleanrooms") as cleanrooms, session.client("cleanroomsml") as ml:
        for membership in await _memberships(cleanrooms):
            for _, arn in await _models(ml, membership):
                try:
                    versions = await _versions(ml, membership, arn)
                except Exception:
                    failed += 1
                    continue
                for version in versions:
                    try:
                        await _get(ml, *version)
                    except Exception:
                        failed += 1
                    else:
                        read += 1
    return {"read": read, "failed": failed}


async def gather(mode: str, concurrency: int) -> dict[str, int]:
    """``asyncio.gather`` everything, ``concurrency`` calls in flight, botocore retries."""
    session = aioboto3.Session()
    config = Config(retries={"mode": mode}, max_pool_connections=concurrency)
    semaphore = asyncio.Semaphore(concurrency)

    async def limited(call: Any, *args: Any) -> Any:
        async with semaphore:
            return await call(*args)

    async with (
        session.client("cleanrooms", config=config) as cleanrooms,
        session.client("cleanroomsml", config=config) as ml,
    ):
        memberships = await _memberships(cleanrooms)
        model_lists = await asyncio.gather(
            *(limited(_models, ml, m) for m in memberships), return_exceptions=True
        )
        models = [model for found in model_lists if isinstance(found, list) for model in found]
        version_lists = await asyncio.gather(
            *(limited(_versions, ml, *model) for model in models), return_exceptions=True
        )
        versions = [v for found in version_lists if isinstance(found, list) for v in found]
        documents = await asyncio.gather(
            *(limited(_get, ml, *version) for version in versions), return_exceptions=True
        )
    read = sum(1 for document in documents if isinstance(document, dict))
    failed = (
        len(documents) - read + sum(1 for found in version_lists if not isinstance(found, list))
    )
    return {"read": read, "failed": failed}


async def bare(versions: list[tuple[str, str, str]], concurrency: int) -> dict[str, int]:
    """``get_trained_model`` for each known version on a default aiobotocore client."""
    session = aiobotocore.session.get_session()
    config = Config(max_pool_connections=concurrency)
    semaphore = asyncio.Semaphore(concurrency)

    async def one(version: tuple[str, str, str]) -> dict[str, Any]:
        async with semaphore:
            return await _get(ml, *version)

    async with session.create_client("cleanroomsml", config=config) as ml:
        documents = await asyncio.gather(*(one(v) for v in versions), return_exceptions=True)
    read = sum(1 for document in documents if isinstance(document, dict))
    return {"read": read, "failed": len(documents) - read}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=["sequential", "gather", "bare"])
    parser.add_argument("--mode", default="standard", choices=["legacy", "standard", "adaptive"])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--versions-file", help="bare: JSON list of [membership, arn, version]")
    args = parser.parse_args(argv)
    started = time.process_time()

    def stopped(signum: int, frame: object) -> None:
        print(json.dumps({"read": READ[0], "stopped": True}), flush=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, stopped)
    if args.kind == "sequential":
        outcome = asyncio.run(sequential())
    elif args.kind == "gather":
        outcome = asyncio.run(gather(args.mode, args.concurrency))
    else:
        with open(args.versions_file, encoding="utf-8") as handle:
            versions = [tuple(v) for v in json.load(handle)]
        started = time.process_time()
        outcome = asyncio.run(bare(versions, args.concurrency))  # type: ignore[arg-type]
    print(json.dumps({**outcome, "cpu": time.process_time() - started}), flush=True)


if __name__ == "__main__":
    main()
