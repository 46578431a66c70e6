"""The hotline over HTTP: send, inbox, read, acknowledge, reply, threads."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from truceline.api.security import (
    CALLER,
    PARTICIPANTS,
    endpoint,
    reader_language,
    service_of,
    signed_request,
)
from truceline.service import hotline
from truceline.service.auth import Principal

router = APIRouter(tags=["hotline"])

MessageId = Path(min_length=1, max_length=64)
Priority = Literal["routine", "high", "urgent"]


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: list[str] = Field(min_length=1, max_length=100, description="Names of the receiving parties.")
    text: str = Field(min_length=1, max_length=hotline.MAX_TEXT_CHARS)
    language: str = Field(min_length=2, max_length=35, description="BCP 47 tag of the text's language.")
    priority: Priority = "routine"


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=hotline.MAX_TEXT_CHARS)
    language: str = Field(min_length=2, max_length=35)
    priority: Priority | None = None


@endpoint(router, "POST", "/messages", PARTICIPANTS, status_code=201)
async def send(body: MessageIn, request: Request, principal: Principal = CALLER) -> dict[str, Any]:
    """Send a message written by a duty officer (free text, never translated)."""
    message_id = await run_in_threadpool(
        hotline.send,
        service_of(request),
        principal,
        body.to,
        body.text,
        body.language,
        body.priority,
        signed_request(request),
    )
    return {"id": message_id}


@endpoint(router, "GET", "/messages", PARTICIPANTS)
async def inbox(
    request: Request,
    pending: bool = Query(False, description="Only messages not yet acknowledged."),
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = CALLER,
) -> list[dict[str, Any]]:
    """The caller's inbox, newest first, rendered in its language (Accept-Language or its setting)."""
    language = reader_language(request, principal)
    return await run_in_threadpool(hotline.inbox, service_of(request), principal, language, pending, limit)


@endpoint(router, "GET", "/messages/{message_id}", PARTICIPANTS)
async def get_message(
    request: Request, message_id: str = MessageId, principal: Principal = CALLER
) -> dict[str, Any]:
    """One message the caller sent or received (the sender also sees each acknowledgement)."""
    language = reader_language(request, principal)
    return await run_in_threadpool(hotline.get_message, service_of(request), principal, message_id, language)


@endpoint(router, "POST", "/messages/{message_id}/ack", PARTICIPANTS)
async def acknowledge(
    request: Request, message_id: str = MessageId, principal: Principal = CALLER
) -> dict[str, Any]:
    """Acknowledge a message addressed to the caller."""
    await run_in_threadpool(
        hotline.acknowledge, service_of(request), principal, message_id, signed_request(request)
    )
    return {"id": message_id, "acknowledged": True}


@endpoint(router, "POST", "/messages/{message_id}/reply", PARTICIPANTS, status_code=201)
async def reply(
    body: ReplyIn, request: Request, message_id: str = MessageId, principal: Principal = CALLER
) -> dict[str, Any]:
    """Reply in the same thread, to the sender and the other recipients."""
    new_id = await run_in_threadpool(
        hotline.reply,
        service_of(request),
        principal,
        message_id,
        body.text,
        body.language,
        body.priority,
        signed_request(request),
    )
    return {"id": new_id}


@endpoint(router, "GET", "/threads/{thread_id}", PARTICIPANTS)
async def thread(
    request: Request,
    thread_id: str = Path(min_length=1, max_length=64),
    principal: Principal = CALLER,
) -> list[dict[str, Any]]:
    """The messages of a thread that the caller sent or received, oldest first."""
    language = reader_language(request, principal)
    return await run_in_threadpool(hotline.thread, service_of(request), principal, thread_id, language)
