/** What every screen is given: the session it shows and the rest of its address. */
export interface ScreenProps {
  sessionId: string;
  rest: string[];
}
