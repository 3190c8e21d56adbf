import { realData } from '../helpers/real-data.ts';
import { realDataSuite } from '../helpers/real-data-suite.ts';

// Fetched like `npm start` does when ./data lacks it (CI links it in).
realDataSuite('ml-latest-small', () => realData('ml-latest-small'));
