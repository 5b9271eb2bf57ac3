// Shapes of the fleet-wide correlation: what each host's log window keeps about logins
// (`hosts[].auth` in the scan JSON) and what the fleet summary derives from all hosts together
// (`summary.correlation`). Both are bounded: caps are stated in the data, never silent.

/** One client IP on one host: who logged in from it, who it tried. Times are epoch seconds. */
export interface HostAuthIp {
  ip: string;
  /** Successful logins (accepted messages and logins without one). */
  logins: number;
  /** Failed logins from this IP, named or not. */
  failures: number;
  /** Failed logins that named no user (postfix's SASL warning usually names none). */
  unnamedFailures: number;
  /** Accounts that logged in from it (at most MAX_NAMES_PER_IP; `accountCount` is the true number). */
  accounts: string[];
  accountCount: number;
  /** User names it failed to log in as (at most MAX_NAMES_PER_IP; `failedAccountCount` is the true number). */
  failedAccounts: string[];
  failedAccountCount: number;
  firstSeen: number | null;
  lastSeen: number | null;
}

/** One account that logged in on this host. */
export interface HostAuthAccount {
  authId: string;
  messages: number;
  /** Logins with no accepted message. */
  logins: number;
  /** Distinct client IPs (a lower bound when the per-account cap was hit). */
  ips: number;
  /** Its most active client IPs, at most 5. */
  topIps: string[];
}

/** Failed logins from one IP followed by a successful login to the account from it: a guessed password. */
export interface AuthBurst {
  authId: string;
  ip: string;
  /** Failures from the IP naming the account or no one, within the window before the success. */
  failures: number;
  /** True when the count hit the per-pair cap (MAX_BURST_TIMES): it is a lower bound. */
  failuresCapped?: boolean;
  firstFailure: number;
  lastFailure: number;
  /** The successful login (epoch seconds). */
  success: number;
}

/** What the host's log window showed about logins; absent when the log was not read whole. */
export interface HostAuth {
  /** Accounts that logged in, most active first (at most MAX_REPORT_ACCOUNTS). */
  accounts: HostAuthAccount[];
  /** Client IPs that logged in or tried, most accounts and failures first (at most MAX_REPORT_IPS). */
  ips: HostAuthIp[];
  /** Failure bursts followed by a success, at most MAX_REPORT_BURSTS, most failures first. */
  bursts: AuthBurst[];
  /** The burst definition in force: at least `failures` failed logins within `seconds` before the success. */
  burst: { failures: number; seconds: number };
  /**
   * What the caps left out: accounts / IPs / bursts not listed, IPs not tracked at all on the host,
   * account names per IP only counted (counts are lower bounds then), and whether some failures could
   * not be timed for bursts (`untimedFailures`).
   */
  capped?: { accounts?: number; ips?: number; bursts?: number; untrackedIps?: number; names?: number; untimedFailures?: boolean };
}

/** An account seen logging in on more than one host. */
export interface CorrelatedAccount {
  authId: string;
  hosts: { host: string; messages: number; logins: number; ips: number }[];
  messages: number;
  logins: number;
  /** A few of its client IPs across the hosts (at most MAX_SAMPLES). */
  sampleIps: string[];
  /** A scan rule points at it on some host. */
  suspect: boolean;
}

/** A client IP that logged in to, or tried, more than one account or more than one host. */
export interface CorrelatedIp {
  ip: string;
  hosts: string[];
  /** Distinct accounts it logged in to or tried, fleet-wide (names kept per host are capped: a lower bound then). */
  accountCount: number;
  /** At most MAX_SAMPLES of them; accounts with a successful login first. */
  sampleAccounts: string[];
  /** Distinct accounts it logged in to successfully. */
  loggedInCount: number;
  /** Distinct user names it failed as. */
  failedAccountCount: number;
  logins: number;
  failures: number;
  firstSeen: string | null;
  lastSeen: string | null;
  /** Suspects among the accounts it logged in to or tried. */
  suspects: string[];
}

export interface CorrelatedBurst {
  host: string;
  authId: string;
  ip: string;
  failures: number;
  failuresCapped?: boolean;
  firstFailure: string;
  lastFailure: string;
  success: string;
  suspect: boolean;
}

/** `summary.correlation`: recomputed from `hosts[].auth` by every scan and every merge. */
export interface Correlation {
  accounts: CorrelatedAccount[];
  ips: CorrelatedIp[];
  bursts: CorrelatedBurst[];
  /** Entries left out of each list (each keeps at most MAX_CORRELATED, suspects first). */
  omitted: { accounts: number; ips: number; bursts: number };
  /** Hosts whose login data is missing or capped, and why: the lists may miss what they hid. */
  partial: { host: string; why: string }[];
}
