import type { ComponentType } from 'react';
import type { ScreenProps } from './screenProps';
import { ChatsScreen } from './screens/ChatsScreen';
import { PollsScreen } from './screens/PollsScreen';
import { SessionsScreen } from './screens/SessionsScreen';
import { WebhooksScreen } from './screens/WebhooksScreen';

/**
 * The dashboard's screens, in the order of the navigation: a new screen is one file in
 * ./screens and one entry here.
 */
export const screens: { path: string; title: string; Component: ComponentType<ScreenProps> }[] = [
  { path: 'sessions', title: 'Sessions', Component: SessionsScreen },
  { path: 'chats', title: 'Chats', Component: ChatsScreen },
  { path: 'polls', title: 'Polls', Component: PollsScreen },
  { path: 'webhooks', title: 'Webhooks', Component: WebhooksScreen },
];
