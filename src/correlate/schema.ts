// `hosts[].auth` as `mailsweep merge` accepts it from another process's report: checked field by
// field and bounded like the scan writes it, so correlation over merged reports never trusts sizes.
import { z } from 'zod';
import { MAX_NAMES_PER_IP } from '../logs/auth-ips.js';
import { MAX_REPORT_ACCOUNTS, MAX_REPORT_BURSTS, MAX_REPORT_IPS } from './host-auth.js';

const count = z.number().int().min(0);
const time = z.number().nullable();
const name = z.string().max(10_000);

export const hostAuthSchema = z
  .object({
    accounts: z
      .array(z.object({ authId: name, messages: count, logins: count, ips: count, topIps: z.array(name).max(5) }).passthrough())
      .max(MAX_REPORT_ACCOUNTS),
    ips: z
      .array(
        z
          .object({
            ip: name,
            logins: count,
            failures: count,
            unnamedFailures: count,
            accounts: z.array(name).max(MAX_NAMES_PER_IP),
            accountCount: count,
            failedAccounts: z.array(name).max(MAX_NAMES_PER_IP),
            failedAccountCount: count,
            firstSeen: time,
            lastSeen: time,
          })
          .passthrough(),
      )
      .max(MAX_REPORT_IPS),
    bursts: z
      .array(
        z
          .object({
            authId: name,
            ip: name,
            failures: count,
            failuresCapped: z.boolean().optional(),
            firstFailure: z.number(),
            lastFailure: z.number(),
            success: z.number(),
          })
          .passthrough(),
      )
      .max(MAX_REPORT_BURSTS),
    burst: z.object({ failures: count, seconds: count }),
    capped: z
      .object({
        accounts: count.optional(),
        ips: count.optional(),
        bursts: count.optional(),
        untrackedIps: count.optional(),
        names: count.optional(),
        untimedFailures: z.boolean().optional(),
      })
      .optional(),
  })
  .passthrough();
