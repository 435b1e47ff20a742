/**
 * `zod/mini` with English error messages. The mini build ships no locale, so
 * without this every issue reads "Invalid input" in the Lambda bundle (the
 * full `zod`, loaded in tests and at build time, installs one globally and
 * hides the difference). Import `z` from here, never from 'zod/mini'.
 */

import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

z.config(en());

export { z };
