/**
 * Installs zod's English messages. `zod/mini` ships no locale, so without this
 * every issue reads "Invalid input" in the Lambda bundle (the full `zod`,
 * loaded in tests and at build time, installs one globally and hides the
 * difference). Every module that validates with `zod/mini` imports this file
 * for its side effect; importing only `config` keeps the other locales out of
 * the bundle.
 */

import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());
