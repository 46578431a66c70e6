"""The hotline over HTTP: send, inbox, read, acknowledge, reply, threads."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from truceline.api.edge import STORABLE
from truceline.api.responses import Out
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

MessageId = Path(min_length=1, max_length=64, pattern=STORABLE)
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


class MessageIdOut(Out):
    id: str = Field(description="The new message's id (UUIDv7).")


class AcknowledgedOut(Out):
    id: str
    acknowledged: bool


class DeliveryOut(Out):
    party: str
    priority: str
    deadline: str | None = Field(description="RFC 3339; null: no deadline.")
    acknowledged_at: str | None = Field(description="RFC 3339; null: not yet.")
    escalations: int


class MessageOut(Out):
    """A message for one reader, rendered in its language. `deadline`, `acknowledged_at`
    and `escalations` are there for a recipient; `deliveries` for the sender only."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
                    "thread_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
                    "in_reply_to": None,
                    "from": "A",
                    "to": ["B"],
                    "sent_at": "2026-01-01T12:00:00Z",
                    "priority": "urgent",
                    "text": "Convoy at the crossing at 14:00.",
                    "language": "en",
                    "rtl": False,
                    "body": {"text": "Convoy at the crossing at 14:00.", "language": "en"},
                    "about": None,
                    "seq": 12,
                    "deadline": "2026-01-01T12:05:00Z",
                    "acknowledged_at": None,
                    "escalations": 0,
                }
            ]
        }
    )
    id: str
    thread_id: str
    in_reply_to: str | None
    sender: str | None = Field(
        serialization_alias="from",
        validation_alias=AliasChoices("from", "sender", "from_"),
        description="The sender's name; null: the register itself.",
    )
    to: list[str | None] = Field(description="The recipients' names.")
    sent_at: str = Field(description="RFC 3339.")
    priority: str = Field(description="routine | high | urgent.")
    text: str = Field(
        description="The text in `language`: as written, or the template rendered for the reader."
    )
    language: str
    rtl: bool = Field(description="Whether the text reads right to left.")
    body: dict[str, Any] = Field(description="The stored body: free text, or a template and its parameters.")
    about: dict[str, Any] | None = Field(description="What it is about (`kind` and `id`), if anything.")
    seq: int = Field(description="The ledger entry index of the message.")
    deadline: str | None = Field(
        default=None, description="Recipients only: RFC 3339 acknowledgement deadline."
    )
    acknowledged_at: str | None = Field(default=None, description="Recipients only: RFC 3339.")
    escalations: int | None = Field(default=None, description="Recipients only.")
    deliveries: list[DeliveryOut] | None = Field(default=None, description="The sender only.")


def message_out(view: hotline.MessageView) -> MessageOut:
    """The answer for one message. Built from keywords so that a member the reader has no
    business with (a recipient's deadline, the sender's deliveries) stays unset, and the
    routes' ``response_model_exclude_unset`` leaves it out rather than sending null."""
    fields: dict[str, Any] = {
        "id": view.id,
        "thread_id": view.thread_id,
        "in_reply_to": view.in_reply_to,
        "sender": view.sender,
        "to": view.to,
        "sent_at": view.sent_at,
        "priority": view.priority,
        "text": view.text,
        "language": view.language,
        "rtl": view.rtl,
        "body": view.body,
        "about": view.about,
        "seq": view.seq,
    }
    if view.received is not None:
        fields.update(
            deadline=view.received.deadline,
            acknowledged_at=view.received.acknowledged_at,
            escalations=view.received.escalations,
        )
    if view.deliveries is not None:
        fields["deliveries"] = DeliveryOut.many(view.deliveries)
    return MessageOut(**fields)


@endpoint(router, "POST", "/messages", PARTICIPANTS, status_code=201, operation_id="send_message")
async def send(body: MessageIn, request: Request, principal: Principal = CALLER) -> MessageIdOut:
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
    return MessageIdOut(id=message_id)


# An absent member stays absent (a recipient's deadline, the sender's deliveries).
@endpoint(
    router, "GET", "/messages", PARTICIPANTS, operation_id="list_messages", response_model_exclude_unset=True
)
async def inbox(
    request: Request,
    pending: bool = Query(False, description="Only messages not yet acknowledged."),
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = CALLER,
) -> list[MessageOut]:
    """The caller's inbox, newest first, rendered in its language (Accept-Language or its setting)."""
    language = reader_language(request, principal)
    found = await run_in_threadpool(hotline.inbox, service_of(request), principal, language, pending, limit)
    return [message_out(m) for m in found]


@endpoint(router, "GET", "/messages/{message_id}", PARTICIPANTS, response_model_exclude_unset=True)
async def get_message(
    request: Request, message_id: str = MessageId, principal: Principal = CALLER
) -> MessageOut:
    """One message the caller sent or received (the sender also sees each acknowledgement)."""
    language = reader_language(request, principal)
    found = await run_in_threadpool(hotline.get_message, service_of(request), principal, message_id, language)
    return message_out(found)


@endpoint(router, "POST", "/messages/{message_id}/ack", PARTICIPANTS, operation_id="acknowledge_message")
async def acknowledge(
    request: Request, message_id: str = MessageId, principal: Principal = CALLER
) -> AcknowledgedOut:
    """Acknowledge a message addressed to the caller."""
    await run_in_threadpool(
        hotline.acknowledge, service_of(request), principal, message_id, signed_request(request)
    )
    return AcknowledgedOut(id=message_id, acknowledged=True)


@endpoint(
    router,
    "POST",
    "/messages/{message_id}/reply",
    PARTICIPANTS,
    status_code=201,
    operation_id="reply_to_message",
)
async def reply(
    body: ReplyIn, request: Request, message_id: str = MessageId, principal: Principal = CALLER
) -> MessageIdOut:
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
    return MessageIdOut(id=new_id)


@endpoint(
    router,
    "GET",
    "/threads/{thread_id}",
    PARTICIPANTS,
    operation_id="get_thread",
    response_model_exclude_unset=True,
)
async def thread(
    request: Request,
    thread_id: str = Path(min_length=1, max_length=64, pattern=STORABLE),
    principal: Principal = CALLER,
) -> list[MessageOut]:
    """The messages of a thread that the caller sent or received, oldest first."""
    language = reader_language(request, principal)
    found = await run_in_threadpool(hotline.thread, service_of(request), principal, thread_id, language)
    return [message_out(m) for m in found]
