/** The official GroupLens MovieLens releases cinerec can fetch. */

export const GROUPLENS_BASE = 'https://files.grouplens.org/datasets/movielens/';

export type ReleaseName =
  | 'ml-latest-small'
  | 'ml-100k'
  | 'ml-1m'
  | 'ml-10m'
  | 'ml-20m'
  | 'ml-25m'
  | 'ml-32m'
  | 'ml-latest';

export interface Release {
  readonly name: ReleaseName;
  readonly archive: string;
  /** Folder the archive unpacks into (ml-10m is the odd one). */
  readonly folder: string;
  /** Pinned sha256 of the archive where a stable published figure exists. */
  readonly sha256?: string;
  /** Pinned md5 (GroupLens publishes `<archive>.md5`). */
  readonly md5?: string;
  readonly bytes?: number;
  /** ml-latest changes over time: only GroupLens' own `.md5` file can vouch for it. */
  readonly checksumUrl?: string;
  readonly description: string;
}

// Pinned figures: sha256 and sizes as recorded by TensorFlow Datasets' url_checksums/movielens.txt;
// ml-32m md5 as published in ml-32m.zip.md5. Others are verified against GroupLens' .md5 at fetch time.
export const RELEASES: Readonly<Record<ReleaseName, Release>> = {
  'ml-latest-small': {
    name: 'ml-latest-small',
    archive: 'ml-latest-small.zip',
    folder: 'ml-latest-small',
    sha256: '696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436',
    bytes: 978202,
    description: '100k ratings, 3.6k tags, 9.7k movies, 610 users (updated 2018)',
  },
  'ml-100k': {
    name: 'ml-100k',
    archive: 'ml-100k.zip',
    folder: 'ml-100k',
    sha256: '50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229',
    bytes: 4924029,
    description: '100k ratings, 1.7k movies, 943 users (1998)',
  },
  'ml-1m': {
    name: 'ml-1m',
    archive: 'ml-1m.zip',
    folder: 'ml-1m',
    sha256: 'a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20',
    bytes: 5917549,
    description: '1M ratings, 3.9k movies, 6k users (2003)',
  },
  'ml-10m': {
    name: 'ml-10m',
    archive: 'ml-10m.zip',
    folder: 'ml-10M100K',
    checksumUrl: `${GROUPLENS_BASE}ml-10m.zip.md5`,
    description: '10M ratings, 100k tags, 10.7k movies, 72k users (2009)',
  },
  'ml-20m': {
    name: 'ml-20m',
    archive: 'ml-20m.zip',
    folder: 'ml-20m',
    sha256: '96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3',
    bytes: 198702078,
    description: '20M ratings, 465k tags, 27k movies, 138k users, tag genome (2016)',
  },
  'ml-25m': {
    name: 'ml-25m',
    archive: 'ml-25m.zip',
    folder: 'ml-25m',
    sha256: '8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa',
    bytes: 261978986,
    description: '25M ratings, 1M tags, 62k movies, 162k users, tag genome (2019)',
  },
  'ml-32m': {
    name: 'ml-32m',
    archive: 'ml-32m.zip',
    folder: 'ml-32m',
    md5: 'd472be332d4daa821edc399621853b57',
    description: '32M ratings, 2M tags, 87k movies, 200k users (2024)',
  },
  'ml-latest': {
    name: 'ml-latest',
    archive: 'ml-latest.zip',
    folder: 'ml-latest',
    checksumUrl: `${GROUPLENS_BASE}ml-latest.zip.md5`,
    description: 'the full latest release, changes over time, tag genome',
  },
};

export function isReleaseName(name: string): name is ReleaseName {
  return Object.hasOwn(RELEASES, name);
}
