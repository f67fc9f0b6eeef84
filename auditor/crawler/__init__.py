"""Discovery of every trained model version an account has, concurrently and politely.

``crawl`` streams ``ModelVersion``/``ScanError`` records from any ``CleanRoomsApi``;
``open_aws_api`` builds the real one from an aioboto3 session. See ``crawl`` for the pipeline,
``ratecontrol`` for how each operation's rate limit is found, ``retry`` for backoff.
"""

from __future__ import annotations

from auditor.crawler.api import CleanRoomsApi, Operation, Page
from auditor.crawler.aws import AwsCleanRoomsApi, open_aws_api
from auditor.crawler.crawl import (
    DEFAULT_CONCURRENCY,
    CrawlConfig,
    CrawlItem,
    CrawlScope,
    CrawlStop,
    ModelArn,
    collect,
    crawl,
    parse_model_arn,
)
from auditor.crawler.ratecontrol import RateConfig
from auditor.crawler.retry import RetryPolicy
from auditor.crawler.stats import CrawlStats
from auditor.errors import DeadlineExceededError

__all__ = [
    "DEFAULT_CONCURRENCY",
    "AwsCleanRoomsApi",
    "CleanRoomsApi",
    "CrawlConfig",
    "CrawlItem",
    "CrawlScope",
    "CrawlStats",
    "CrawlStop",
    "DeadlineExceededError",
    "ModelArn",
    "Operation",
    "Page",
    "RateConfig",
    "RetryPolicy",
    "collect",
    "crawl",
    "open_aws_api",
    "parse_model_arn",
]
