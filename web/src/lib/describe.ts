import { t } from './i18n/index.svelte';
import type { Command } from './proto/Command';
import type { BoardState } from './state/board.svelte';

function excerpt(text: string | null | undefined, max = 60): string {
  if (text === null || text === undefined) return t('common.erased');
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}

/** A short sentence saying what a command does, for the list of unsent ones. */
export function describeCommand(command: Command, board: BoardState): string {
  const cardTitle = (id: string) => excerpt(board.cards.get(id)?.title);
  switch (command.type) {
    case 'add_card':
      return t('outbox.commands.add_card', { text: excerpt(command.title) });
    case 'edit_card':
      return t('outbox.commands.edit_card', { text: excerpt(command.title) });
    case 'move_card':
      return t('outbox.commands.move_card', { text: cardTitle(command.card) });
    case 'archive_card':
      return t('outbox.commands.archive_card', { text: cardTitle(command.card) });
    case 'set_card_status':
      return t('outbox.commands.set_card_status', { text: cardTitle(command.card) });
    case 'add_comment':
      return t('outbox.commands.add_comment', { text: excerpt(command.body) });
    case 'edit_comment':
      return t('outbox.commands.edit_comment', { text: excerpt(command.body) });
    case 'delete_comment':
      return t('outbox.commands.delete_comment');
    case 'cast_vote':
      return t('outbox.commands.cast_vote', { text: cardTitle(command.card) });
    case 'withdraw_vote':
      return t('outbox.commands.withdraw_vote', { text: cardTitle(command.card) });
    case 'toggle_reaction':
      return t('outbox.commands.toggle_reaction');
    case 'add_column':
      return t('outbox.commands.add_column', { text: excerpt(command.title) });
    case 'rename_column':
      return t('outbox.commands.rename_column', { text: excerpt(command.title) });
    case 'move_column':
    case 'archive_column':
    case 'restore_column':
      return t('outbox.commands.column', { text: excerpt(board.columns.get(command.column)?.title) });
    case 'group_cards':
      return t('outbox.commands.group_cards', { text: excerpt(command.heading) });
    case 'add_to_group':
      return t('outbox.commands.add_to_group', { text: cardTitle(command.card) });
    case 'ungroup':
      return t('outbox.commands.ungroup', { text: cardTitle(command.group) });
    case 'create_session':
      return t('outbox.commands.create_session', { text: excerpt(command.name) });
    case 'start_session':
      return t('outbox.commands.start_session');
    case 'set_phase':
      return t('outbox.commands.set_phase', { text: t(`phases.${command.phase}`) });
    case 'start_timer':
    case 'extend_timer':
    case 'stop_timer':
      return t('outbox.commands.timer');
    case 'start_vote_round':
      return t('outbox.commands.start_vote_round');
    case 'reveal_votes':
      return t('outbox.commands.reveal_votes');
    case 'set_locked':
      return t('outbox.commands.set_locked');
    case 'set_board_options':
      return t('outbox.commands.set_board_options');
    case 'add_statement':
      return t('outbox.commands.add_statement', { text: excerpt(command.title) });
    case 'propose_wording':
      return t('outbox.commands.propose_wording', { text: excerpt(command.text) });
    case 'rebase_proposal':
      return t('outbox.commands.rebase_proposal', { text: excerpt(command.text) });
    case 'adopt_proposal':
      return t('outbox.commands.adopt_proposal', { text: excerpt(board.cards.get(command.card)?.body) });
    default:
      return t('outbox.commands.other');
  }
}
