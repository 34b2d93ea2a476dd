"""Word lists the simulated world draws names, places and texts from."""

from __future__ import annotations

HORSE_WORDS_A = (
    "Amber Ancient Arctic Autumn Azure Bold Brave Bright Broken Burning Calm Celtic Clever Cosmic Crimson "
    "Crystal Dancing Dark Distant Dusty Eager Electric Emerald Endless Falling Fancy Fast Fiery Flying Free "
    "Frosty Gentle Golden Grand Green Happy Hidden High Hollow Honest Iron Ivory Jolly Kind Lazy Little Lone "
    "Lost Lucky Lunar Magic Major Merry Midnight Mighty Misty Noble Northern Old Olive Perfect Proud Quiet "
    "Quick Rapid Red Restless Rich Roaring Royal Ruby Rustic Salty Scarlet Secret Silent Silver Smart Solar "
    "Southern Spanish Speedy Stormy Sunny Supreme Swift Tall Tiny True Velvet Western Whispering Wild Winter "
    "Wise Young Zesty"
).split()

HORSE_WORDS_B = (
    "Abbey Admiral Angel Archer Arrow Baron Bay Beacon Bell Blaze Breeze Bridge Brook Captain Castle Charm "
    "Chief Cloud Comet Count Crown Dancer Dawn Diamond Dream Duke Eagle Echo Emperor Empire Falcon Flame "
    "Flight Forest Fortune Fox Galaxy Gem Ghost Glory Harbour Hawk Hero Hill Horizon Hunter Island Jewel "
    "Journey Knight Lady Lake Legend Light Lion Lord Meadow Melody Mist Monarch Moon Mountain Ocean Oracle "
    "Orchid Pearl Phoenix Pilot Pioneer Poet Prince Princess Promise Queen Quest Raven Rebel Rider River "
    "Rocket Rose Saint Sailor Secret Shadow Song Spark Spirit Star Storm Story Summit Sun Thunder Tiger "
    "Tower Trail Treasure Valley Victory Voyage Warrior Wave Whisper Willow Wind Wizard Wonder"
).split()

HORSE_SYLLABLES_A = (
    "Al Bal Cal Dar El Fal Gal Har Il Jar Kal Lor Mar Nor Or Par Qua Ral Sar Tal Ul Val War Xan Yar Zar "
    "Ben Cor Del Fen Gor Hal Kor Lan Mor Nal Per Ros Sil Tor Vin"
).split()
HORSE_SYLLABLES_B = (
    "ada amo ano ara dor eno ina ino ira ista ita ix ona ora oro oso ova uba uno ura ys ian ella ette"
).split()

FIRST_NAMES = (
    "Adam Aidan Alan Andrew Ben Billy Brian Callum Ciaran Colin Conor Danny David Declan Eoin Finn Gavin "
    "George Harry Hollie Jack Jamie James Jane Joe John Jonathan Kevin Kieran Lee Liam Luke Mark Martin "
    "Megan Michael Nico Oisin Olly Paddy Patrick Paul Richard Rob Rossa Ryan Sam Sean Shane Sophie Tom "
    "William Alice Bryony Charlie Daniel Ellie Hannah Harriet Jessica Kate Lucy Rachael Saffie Sarah "
    "Tabitha Georgia Dylan Cieren Archie Billy Darragh Hugh Mikey Rex"
).split()

SURNAMES = (
    "Allen Barry Bowen Brennan Browne Buick Burke Byrne Carroll Carson Cleary Cobden Coleman Connor Cook "
    "Crowley Curran Daly Davies Doyle Dunne Edwards Egan Fahey Farrell Fitzgerald Foley Fox Gallagher "
    "Geraghty Greene Hanlon Harrington Hayes Hobson Hogan Hughes Hurley Johnson Jones Keane Kelly Kennedy "
    "King Lynch Madden Mahon Marshall Moore Morgan Mullins Murphy Nolan O'Brien O'Connor O'Keeffe "
    "O'Neill Power Quinlan Quinn Reilly Roche Russell Ryan Scott Sheehan Skelton Smith Spencer Stewart "
    "Sullivan Swan Tierney Townend Turner Twiston Walsh Ward Watson Whelan Williams Wilson Woods Wright "
    "Atzeni Dettol Fallon Haggas Hannon Crisford Appleby Gosden Varian Beckett Channon Dascombe Fahy Tate "
    "Menuisier Tregoning Dixon Fell Carr Easterby Fahey Dods Bethell Murtagh Prendergast Weld Halford"
).split()

OWNER_SUFFIXES = (
    "Racing Club",
    "Partnership",
    "Racing Syndicate",
    "Bloodstock",
    "& Partner",
    "Racing",
    "Stud",
    "Thoroughbreds",
    "Family",
    "Racing Limited",
)

GB_LOCATIONS = (
    "Lambourn, Berks",
    "Newmarket, Suffolk",
    "Malton, N Yorks",
    "Middleham, N Yorks",
    "Epsom, Surrey",
    "Upper Lambourn, Berks",
    "Ditcheat, Somerset",
    "Alcester, Warwicks",
    "Naunton, Gloucs",
    "Brompton Regis, Somerset",
    "Kinnersley, Worcs",
    "Hambleton, N Yorks",
    "Musley Bank, N Yorks",
    "Marlborough, Wilts",
    "Kingsclere, Hants",
    "Cheltenham, Gloucs",
    "Cholmondeley, Cheshire",
    "Penrith, Cumbria",
    "Kelso, Borders",
    "Ayr, South Ayrshire",
    "Hednesford, Staffs",
    "Findon, W Sussex",
    "Newton Abbot, Devon",
    "Carmarthen, Carmarthenshire",
    "Sheriff Hutton, N Yorks",
    "Wetherby, W Yorks",
)
IRE_LOCATIONS = (
    "Ballydoyle, Co Tipperary",
    "Closutton, Co Carlow",
    "Cullentra, Co Meath",
    "The Curragh, Co Kildare",
    "Fethard, Co Tipperary",
    "Navan, Co Meath",
    "Rosewell House, Co Kildare",
    "Gowran, Co Kilkenny",
    "Thurles, Co Tipperary",
    "Mallow, Co Cork",
    "Trim, Co Meath",
    "Kilcullen, Co Kildare",
    "Ballingarry, Co Limerick",
    "Enniscorthy, Co Wexford",
)

SPONSORS = (
    "Sky Bet",
    "Betfred",
    "William Hill",
    "Coral",
    "Ladbrokes",
    "Paddy Power",
    "Bet365",
    "BetVictor",
    "Unibet",
    "Racing TV",
    "Boylesports",
    "At The Races",
    "Irish Stallion Farms",
    "Pertemps Network",
    "Weatherbys",
    "Jockey Club",
    "British Stallion Studs",
    "Tote",
    "BetMGM",
    "Virgin Bet",
    "Midnite",
    "Watch Racing Free Online At Coral",
    "Quinnbet",
    "Star Sports",
)

BOOKMAKERS = (
    "Bet365",
    "William Hill",
    "Coral",
    "Betfred",
    "Boyle Sports",
    "Ladbrokes",
    "Unibet",
    "Bet Goodwin",
    "Bet Victor",
    "10 Bet",
    "BetMGM",
    "Grosvenor Sports",
    "Betway",
    "Virgin Bet",
    "talkSPORT BET",
    "Dragon Bet",
    "CopyBet",
    "PricedUp Bet",
    "Spreadex",
    "BresBet",
    "Star Sports",
    "7Bet",
    "BetTom",
    "Gentlemen Jim",
    "Midnite",
    "SportingIndex",
    "Quinn Bet",
)

NON_RUNNER_REASONS = (
    "self certificate, coughing",
    "unsuitable ground",
    "travel problems",
    "withdrawn, vet's advice",
    "self certificate, off feed",
    "lame",
    "self certificate, unsuitable ground",
    "injured",
)

COMMENTS_WINNER = (
    "Held up in rear - headway over 2f out - led inside final furlong - ran on well",
    "Made all - kept on strongly",
    "Prominent - led over 1f out - driven out",
    "Tracked leaders - went on 2 out - stayed on well",
    "In touch - smooth headway to lead last - pushed clear",
)
COMMENTS_PLACED = (
    "Led - headed inside final furlong - kept on",
    "Midfield - headway over 1f out - kept on same pace",
    "Chased leaders - every chance over 1f out - no extra close home",
    "Held up - progress 3 out - stayed on but not pace of winner",
    "Prominent - outpaced 2f out - rallied inside final furlong",
)
COMMENTS_BEATEN = (
    "Always behind",
    "Never dangerous",
    "Prominent - weakened from over 2f out",
    "Midfield on outer - lost ground and towards rear after 2f - never dangerous",
    "Held up in rear - no impression",
    "Chased leaders - weakened 2 out",
    "In touch - outpaced 3f out",
)
COMMENTS_NON_FINISHER = {
    "PU": "Behind - tailed off when pulled up before 2 out",
    "F": "In touch when fell 4 out",
    "UR": "Mid-division when blundered and unseated rider 6th",
    "BD": "Brought down 3 out",
    "RO": "Ran out 2nd",
    "SU": "Slipped up on bend after 5th",
    "REF": "Refused to race",
    "DSQ": "Finished first past the post - disqualified (failed drugs test)",
}
SPOTLIGHTS = (
    "Ran well last time and remains on a workable mark.",
    "Has shown ability and looks sure to improve for the step up in trip.",
    "Best watched after a lacklustre effort last time.",
    "Consistent sort who should go close again.",
    "Well held on her last two starts and needs to bounce back.",
    "Makes his debut for a yard in good form.",
)
STABLE_TOUR_QUOTES = (
    "He's a lovely horse and has done well over the summer.",
    "She ran well when second last time and will improve from it.",
    "We'll aim him at the big handicaps this season.",
)
