// The playbook format: Ansible-like YAML — name, vars, ordered steps of registered actions.
import { z } from 'zod';

export const StepSchema = z
  .object({
    /** Human title shown in the task list and journal. */
    name: z.string().min(1),
    /** Key under which later steps find this step's result ({{ id.field }}); default: the action name. */
    id: z
      .string()
      .regex(/^[A-Za-z_][\w-]*$/, 'letters, digits, _ and - only')
      .optional(),
    action: z.string().min(1),
    params: z.record(z.string(), z.unknown()).default({}),
    /** Template rendered to a truthy value; the step is skipped when false. */
    when: z.string().optional(),
    /** Ask before this step (destructive ones). A string is the question; true uses a default. */
    confirm: z.union([z.boolean(), z.string()]).default(false),
    /** Integration steps that may be skipped with --skip NAME. */
    skippable: z.boolean().default(false),
  })
  .strict();

export const PlaybookSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    vars: z.record(z.string(), z.unknown()).default({}),
    steps: z.array(StepSchema).min(1),
  })
  .strict();

export type Step = z.infer<typeof StepSchema> & { id: string };
export type Playbook = Omit<z.infer<typeof PlaybookSchema>, 'steps'> & { steps: Step[]; file: string };
