"""Named counters in the database, shared by every process."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import StudyCounter


class CounterRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def next_value(self, name: str) -> int:
        """Increment and return the counter (1 on first use), in the caller's transaction.

        The UPDATE takes the row lock, so concurrent transactions get consecutive values and a
        rolled-back one leaves no gap.
        """
        bump = (
            update(StudyCounter).where(StudyCounter.name == name).values(value=StudyCounter.value + 1)
            .returning(StudyCounter.value).execution_options(synchronize_session=False)
        )
        value = (await self.db.execute(bump)).scalar_one_or_none()
        if value is not None:
            return int(value)
        try:
            async with self.db.begin_nested():
                self.db.add(StudyCounter(name=name, value=1))
            return 1
        except IntegrityError:  # another transaction created it first: take the next value
            return int((await self.db.execute(bump)).scalar_one())
