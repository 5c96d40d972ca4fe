/** What a platform is given besides a feed's base URL (ending in "/"): the addresses each one reads. */
export interface FeedEndpoints {
  url: string;
  opennebula: string;
  simplestreams: string;
  channelLookup: string;
}

export function feedEndpoints(url: string): FeedEndpoints {
  return {
    url,
    opennebula: `${url}opennebula/`,
    simplestreams: `${url}streams/v1/index.json`,
    channelLookup: `${url}channels/<image>/<channel>.json`,
  };
}
