"""Image generation: dall-e-3 and gpt-image-1 parameter rules, filters and tiny real images."""

from __future__ import annotations

import base64
import time
from typing import Any

from . import _errors
from ._codecs import SCALE, encode_png, fixed_jpeg, gradient
from ._synth import estimate_tokens, short_hash
from ._versions import GPT_IMAGE_FIRST_VERSION, supports
from ._wire import Call, Delay, Outcome, json_outcome

__all__ = ["estimate", "respond"]

_DALLE3 = {
    "size": ("1024x1024", "1792x1024", "1024x1792"),
    "quality": ("standard", "hd"),
    "style": ("vivid", "natural"),
    "response_format": ("url", "b64_json"),
}
_GPT_IMAGE = {
    "size": ("1024x1024", "1024x1536", "1536x1024"),
    "quality": ("low", "medium", "high"),
    "output_format": ("png", "jpeg"),
}
# Output tokens OpenAI reports for gpt-image-1 at 1024x1024, by quality.
_GPT_IMAGE_TOKENS = {"low": 272, "medium": 1056, "high": 4160}


def estimate(body: dict[str, Any]) -> int:
    """Images are limited by requests, not tokens: the admission charge is 0 tokens."""
    return 0


def _invalid(
    param: str, value: Any, allowed: tuple[str, ...], code: str = "invalid_request_error"
) -> Outcome:
    message = f"Invalid value for '{param}': {value!r}. Allowed values: {', '.join(allowed)}."
    if param == "size":
        sizes = ", ".join(allowed)
        message = f"The size '{value}' is not supported by this model. Allowed sizes: {sizes}."
    return json_outcome(400, _errors.bad_request(message, param=param, code=code))


def _validate(body: dict[str, Any], gpt_image: bool) -> Outcome | None:
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return json_outcome(
            400, _errors.bad_request("'prompt' is a required property", param="prompt")
        )
    limit = 32_000 if gpt_image else 4_000
    if len(prompt) > limit:
        message = f"The prompt is too long: {len(prompt)} characters. The maximum is {limit}."
        return json_outcome(400, _errors.bad_request(message, param="prompt"))
    n = body.get("n", 1)
    top = 10 if gpt_image else 1
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= top:
        allowed = tuple(str(i) for i in range(1, top + 1))
        return _invalid("n", n, allowed)
    if gpt_image and "response_format" in body:
        # gpt-image-1 always answers b64_json and refuses the parameter outright.
        message = "Unknown parameter: 'response_format'."
        return json_outcome(400, _errors.bad_request(message, param="response_format"))
    rules = _GPT_IMAGE if gpt_image else _DALLE3
    for param, allowed in rules.items():
        value = body.get(param)
        if value is not None and value not in allowed:
            return _invalid(
                param,
                value,
                allowed,
                "invalid_size" if param == "size" else "invalid_request_error",
            )
    compression = body.get("output_compression")
    if (
        gpt_image
        and compression is not None
        and (
            not isinstance(compression, int)
            or isinstance(compression, bool)
            or not 0 <= compression <= 100
        )
    ):
        message = (
            f"Invalid value for 'output_compression': {compression!r}. Allowed values: 0 to 100."
        )
        return json_outcome(400, _errors.bad_request(message, param="output_compression"))
    return None


def _image_bytes(seed: str, size: str, fmt: str) -> bytes:
    width, height = (int(v) // SCALE for v in size.split("x"))
    if fmt == "jpeg":
        return fixed_jpeg(width, height)
    return encode_png(gradient(seed, width, height))


def respond(call: Call) -> Outcome:
    """Answer one image generation request."""
    body = call.body
    model = call.deployment.model_name
    gpt_image = model.startswith("gpt-image")
    if gpt_image and not supports(call.api_version, GPT_IMAGE_FIRST_VERSION):
        first = GPT_IMAGE_FIRST_VERSION + "-preview"
        return json_outcome(400, _errors.model_needs_version(model, first))
    error = _validate(body, gpt_image)
    if error is not None:
        return error
    prompt = str(body["prompt"])
    category, jailbreak = call.policy.check(prompt)
    if category or jailbreak:
        results = _errors.filter_results(filtered=category, jailbreak=jailbreak)
        return json_outcome(400, _errors.image_content_policy(results, revised_prompt=prompt))
    size = str(body.get("size") or "1024x1024")
    quality = str(body.get("quality") or ("high" if gpt_image else "standard"))
    style = str(body.get("style") or "vivid")
    fmt = str(body.get("output_format") or "png") if gpt_image else "png"
    as_url = not gpt_image and (body.get("response_format") or "url") == "url"
    data = []
    for index in range(int(body.get("n", 1))):
        seed = f"{prompt}|{size}|{quality}|{style}|{index}"
        image = _image_bytes(seed, size, fmt)
        item: dict[str, Any] = {}
        if not gpt_image:
            item["revised_prompt"] = (
                f"{prompt.strip()} (emulated {style} {quality} rendering, {size})"
            )
        if as_url:
            image_id = short_hash(seed, length=24)
            call.store_image(image_id, image)
            expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(call.created + 86_400))
            item["url"] = (
                f"{call.origin}/emulator/images/{image_id}.png?se={expiry}&sp=r&sig=emulated"
            )
        else:
            item["b64_json"] = base64.b64encode(image).decode("ascii")
        item["content_filter_results"] = _errors.filter_results()
        item["prompt_filter_results"] = _errors.filter_results(jailbreak=False)
        data.append(item)
    response: dict[str, Any] = {"created": call.created, "data": data}
    if gpt_image:
        text_tokens = estimate_tokens(prompt)
        out_tokens = _GPT_IMAGE_TOKENS.get(quality, 4160) * len(data)
        response["usage"] = {
            "input_tokens": text_tokens,
            "input_tokens_details": {"image_tokens": 0, "text_tokens": text_tokens},
            "output_tokens": out_tokens,
            "total_tokens": text_tokens + out_tokens,
        }
        response["output_format"] = fmt
        response["quality"] = quality
        response["size"] = size
    outcome = json_outcome(200, response)
    if call.deployment.first_token_latency > 0:
        outcome.parts.insert(0, Delay(call.deployment.first_token_latency))
    return outcome
