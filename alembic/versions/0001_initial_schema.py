"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-12-02 03:57:12.481546
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('interview_sessions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('resume_token_hash', sa.String(length=64), nullable=False),
    sa.Column('participant_id', sa.String(length=128), nullable=True),
    sa.Column('group', sa.String(length=16), nullable=False),
    sa.Column('style', sa.String(length=32), nullable=False),
    sa.Column('initial_style', sa.String(length=32), nullable=False),
    sa.Column('role', sa.String(length=200), nullable=True),
    sa.Column('job_description', sa.Text(), nullable=True),
    sa.Column('question_plan', sa.JSON(), nullable=False),
    sa.Column('question_count', sa.Integer(), nullable=False),
    sa.Column('plan_position', sa.Integer(), nullable=False),
    sa.Column('follow_up_pending', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('tts', sa.Boolean(), nullable=False),
    sa.Column('next_seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('interview_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interview_sessions_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_interview_sessions_group'), ['group'], unique=False)
        batch_op.create_index(batch_op.f('ix_interview_sessions_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interview_sessions_status'), ['status'], unique=False)

    op.create_table('asked_questions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('session_id', sa.String(length=32), nullable=False),
    sa.Column('index', sa.Integer(), nullable=False),
    sa.Column('plan_position', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('is_follow_up', sa.Boolean(), nullable=False),
    sa.Column('style', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['interview_sessions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'index')
    )
    op.create_table('checkins',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('session_id', sa.String(length=32), nullable=False),
    sa.Column('client_message_id', sa.String(length=128), nullable=True),
    sa.Column('confidence', sa.Integer(), nullable=False),
    sa.Column('stress', sa.Integer(), nullable=False),
    sa.Column('style', sa.String(length=32), nullable=False),
    sa.Column('question_index', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['interview_sessions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'client_message_id')
    )
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkins_session_id'), ['session_id'], unique=False)

    op.create_table('outbox_messages',
    sa.Column('session_id', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('reply_to', sa.String(length=128), nullable=True),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['interview_sessions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'seq')
    )
    op.create_table('session_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('session_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['interview_sessions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('session_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_events_session_id'), ['session_id'], unique=False)

    op.create_table('telemetry_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('session_id', sa.String(length=32), nullable=False),
    sa.Column('client_message_id', sa.String(length=128), nullable=True),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('style', sa.String(length=32), nullable=False),
    sa.Column('latency_ms', sa.Float(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['interview_sessions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'client_message_id')
    )
    with op.batch_alter_table('telemetry_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_telemetry_events_session_id'), ['session_id'], unique=False)

    op.create_table('answers',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('session_id', sa.String(length=32), nullable=False),
    sa.Column('asked_question_id', sa.Integer(), nullable=False),
    sa.Column('client_message_id', sa.String(length=128), nullable=True),
    sa.Column('input_mode', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('style', sa.String(length=32), nullable=False),
    sa.Column('word_count', sa.Integer(), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('speaking_rate_wpm', sa.Float(), nullable=True),
    sa.Column('pause_ratio', sa.Float(), nullable=True),
    sa.Column('gaze', sa.Float(), nullable=True),
    sa.Column('filler_count', sa.Integer(), nullable=True),
    sa.Column('fillers_per_min', sa.Float(), nullable=True),
    sa.Column('hedge_count', sa.Integer(), nullable=True),
    sa.Column('response_latency_ms', sa.Float(), nullable=True),
    sa.Column('server_metrics', sa.JSON(), nullable=False),
    sa.Column('client_metrics', sa.JSON(), nullable=True),
    sa.Column('tips', sa.JSON(), nullable=False),
    sa.Column('tips_shown', sa.Boolean(), nullable=False),
    sa.Column('coach_source', sa.String(length=16), nullable=False),
    sa.Column('llm_model', sa.String(length=128), nullable=True),
    sa.Column('llm_latency_ms', sa.Float(), nullable=True),
    sa.Column('interviewer_message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['asked_question_id'], ['asked_questions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['interview_sessions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'asked_question_id'),
    sa.UniqueConstraint('session_id', 'client_message_id')
    )
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.create_index('ix_answers_session_created', ['session_id', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_session_created')

    op.drop_table('answers')
    with op.batch_alter_table('telemetry_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_telemetry_events_session_id'))

    op.drop_table('telemetry_events')
    with op.batch_alter_table('session_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_events_session_id'))

    op.drop_table('session_events')
    op.drop_table('outbox_messages')
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkins_session_id'))

    op.drop_table('checkins')
    op.drop_table('asked_questions')
    with op.batch_alter_table('interview_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interview_sessions_status'))
        batch_op.drop_index(batch_op.f('ix_interview_sessions_participant_id'))
        batch_op.drop_index(batch_op.f('ix_interview_sessions_group'))
        batch_op.drop_index(batch_op.f('ix_interview_sessions_created_at'))

    op.drop_table('interview_sessions')
