"""A pool: one model in two regions, priority failover, and each deployment's health.

    python app.py

With a pool file (AZURE_AI_KIT_CONFIG=pool.toml, see README.md) it calls your deployments.
Without one it builds the same pool on the local emulator, with the primary throttled, so
you can watch the call fail over to the secondary at once.
"""

from __future__ import annotations

import os
import sys

from azure_ai_kit import AzureAIClient, AzureAIKitError, Deployment
from azure_ai_kit.emulator import Emulator, Fault


def emulated_pool() -> AzureAIClient:
    emulator = Emulator.default()
    emulator.script("gpt-4o-mini", Fault.throttle(retry_after=60))  # the primary is busy
    pool = [  # on Azure: the same model deployed in two resources (two endpoints)
        Deployment("gpt-4o-mini", endpoint=emulator.endpoint, aliases=("chat",), priority=0),
        Deployment("gpt-4.1", endpoint=emulator.endpoint, aliases=("chat",), priority=1),
    ]
    return AzureAIClient.for_emulator(emulator, deployments=pool)


def main() -> int:
    pooled = os.environ.get("AZURE_AI_KIT_CONFIG")
    with AzureAIClient.from_env() if pooled else emulated_pool() as client:
        try:
            result = client.chat("Say hello from whichever region answers.", model="chat")
        except AzureAIKitError as exc:  # every deployment failed within the call's budget
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(result.text)
        for attempt in result.attempts:
            print(f"  tried {attempt.deployment}: {attempt.status} {attempt.error or ''}")
        for health in client.status():
            print(f"  {health.deployment.name}: {health.state} {health.last_error or ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
