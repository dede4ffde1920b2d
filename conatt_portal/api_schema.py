"""OpenAPI post-processing: document the error answers every endpoint can give, so clients (and the
schemathesis run in CI) know them: 400 bad input, 401 no or bad credentials, 403 a role without the right,
404 another institution's object (or none), 429 throttled."""

from django.utils.translation import gettext_lazy as _

_ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_VALIDATION_ERROR = {
    "type": "object",
    "description": "Field name (or non_field_errors / detail) -> messages, in the language of the request.",
    "additionalProperties": True,
}


def _responses():
    return {
        "400": (_("Invalid input: the messages say which field and why."), "ValidationError"),
        "401": (_("No credentials, or an invalid, expired or revoked token."), "Error"),
        "403": (_("Your role does not give this right."), "Error"),
        "404": (_("Not found, or not visible to you (another institution's record)."), "Error"),
        "429": (_("Too many requests: wait for the number of seconds in Retry-After."), "Error"),
    }


def document_error_responses(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", _ERROR)
    components.setdefault("ValidationError", _VALIDATION_ERROR)
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, (description, component) in _responses().items():
                responses.setdefault(
                    status,
                    {
                        "description": str(description),
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
                    },
                )
    return result
