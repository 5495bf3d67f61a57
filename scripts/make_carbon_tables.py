#!/usr/bin/env python3
"""Regenerates joulebench's carbon data tables (data/*.csv) from their sources.

Development-time only: the tables are committed and compiled into the binary,
so neither this script nor its inputs are needed to build or run joulebench.

  python3 scripts/make_carbon_tables.py [REFERENCE_DIR]

REFERENCE_DIR (default ../shared/reference) holds grid-intensity.csv and
cloud-regions.csv (Ember / Our World in Data and Google Cloud figures as
compiled by CodeCarbon, MIT). AWS and Azure regions come from CodeCarbon's
codecarbon/data/cloud/impact.csv (MIT), copied below with its sources.
Time zones come from tzdata's zone.tab and iso-codes' ISO 3166-1 table.
"""
import csv
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
ref = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "..", "shared", "reference")
data = os.path.join(root, "data")

# provider, region, iso3, city, g/kWh, source -- CodeCarbon impact.csv (aws, azure rows).
# Its aws rows outside the USA carry a wrong country code (USA); fixed here from the city.
OTHER_CLOUDS = [
    ("aws", "us-east-1", "USA", "Ashburn", 367.8, "eGRID"),
    ("aws", "us-east-2", "USA", "Columbus", 568.2, "eGRID"),
    ("aws", "us-west-1", "USA", "San Francisco", 240.6, "eGRID"),
    ("aws", "us-west-2", "USA", "Portland", 297.6, "eGRID"),
    ("aws", "us-gov-east-1", "USA", "Columbus", 568.2, "eGRID"),
    ("aws", "us-gov-west-1", "USA", "Seattle", 297.6, "eGRID"),
    ("aws", "ca-central-1", "CAN", "Montreal", 20, "Hydro-Quebec"),
    ("aws", "sa-east-1", "BRA", "Sao Paulo", 205, "published grid factor"),
    ("aws", "eu-central-1", "DEU", "Frankfurt am Main", 615, "Electricity Maps, 2019-07-02"),
    ("aws", "eu-west-1", "IRL", "Dublin", 617, "published grid factor"),
    ("aws", "eu-west-2", "GBR", "London", 623, "published grid factor"),
    ("aws", "eu-west-3", "FRA", "Paris", 105, "published grid factor"),
    ("aws", "eu-north-1", "SWE", "Stockholm", 47, "published grid factor"),
    ("aws", "ap-east-1", "HKG", "Hong Kong", 702, "published grid factor"),
    ("aws", "ap-south-1", "IND", "Mumbai", 920, "CEA CO2 baseline database"),
    ("aws", "ap-northeast-1", "JPN", "Tokyo", 516, "FEPC"),
    ("aws", "ap-northeast-2", "KOR", "Seoul", 517, "carbonfootprint.com 2018"),
    ("aws", "ap-northeast-3", "JPN", "Osaka", 516, "FEPC"),
    ("aws", "ap-southeast-1", "SGP", "Singapore", 419, "Singapore Energy Statistics 2018"),
    ("aws", "ap-southeast-2", "AUS", "Sydney", 802, "Clean Energy Regulator 2016-17"),
    ("aws", "cn-north-1", "CHN", "Beijing", 680, "carbonfootprint.com 2018"),
    ("aws", "cn-northwest-1", "CHN", "Zhongwei", 680, "carbonfootprint.com 2018"),
    ("azure", "eastasia", "HKG", "Wan Chai", 702, "published grid factor"),
    ("azure", "southeastasia", "SGP", "Singapore", 419, "Singapore Energy Statistics 2018"),
    ("azure", "centralus", "USA", "Des Moines", 736.6, "eGRID"),
    ("azure", "eastus", "USA", "Blue Ridge", 367.8, "eGRID"),
    ("azure", "eastus2", "USA", "Boydton", 367.8, "eGRID"),
    ("azure", "westus", "USA", "San Francisco", 240.6, "eGRID"),
    ("azure", "westus2", "USA", "Quincy", 297.6, "eGRID"),
    ("azure", "westcentralus", "USA", "Mountain View", 297.6, "eGRID (grid uncertain)"),
    ("azure", "northcentralus", "USA", "Chicago", 568.2, "eGRID"),
    ("azure", "southcentralus", "USA", "San Antonio", 460.4, "eGRID"),
    ("azure", "northeurope", "IRL", "Dublin", 617, "published grid factor"),
    ("azure", "westeurope", "NLD", "Amsterdam", 569, "published grid factor"),
    ("azure", "japanwest", "JPN", "Osaka", 516, "FEPC"),
    ("azure", "japaneast", "JPN", "Tokyo", 516, "FEPC"),
    ("azure", "brazilsouth", "BRA", "Sao Paulo", 205, "published grid factor"),
    ("azure", "australiaeast", "AUS", "Sydney", 802, "Clean Energy Regulator 2016-17"),
    ("azure", "australiasoutheast", "AUS", "Melbourne", 805, "Clean Energy Regulator 2016-17"),
    ("azure", "australiacentral", "AUS", "Canberra", 900, "carbonfootprint.com 2018"),
    ("azure", "australiacentral2", "AUS", "Canberra", 900, "carbonfootprint.com 2018"),
    ("azure", "southindia", "IND", "Chennai", 920, "CEA CO2 baseline database"),
    ("azure", "centralindia", "IND", "Pune", 920, "CEA CO2 baseline database"),
    ("azure", "westindia", "IND", "Mumbai", 920, "CEA CO2 baseline database"),
    ("azure", "canadacentral", "CAN", "Toronto", 69.3, "IESO"),
    ("azure", "canadaeast", "CAN", "Quebec", 20, "Hydro-Quebec"),
    ("azure", "uksouth", "GBR", "London", 623, "published grid factor"),
    ("azure", "ukwest", "GBR", "Cardiff", 623, "published grid factor"),
    ("azure", "koreacentral", "KOR", "Seoul", 517, "carbonfootprint.com 2018"),
    ("azure", "koreasouth", "KOR", "Busan", 517, "carbonfootprint.com 2018"),
    ("azure", "francecentral", "FRA", "Paris", 105, "carbonfootprint.com 2018"),
    ("azure", "francesouth", "FRA", "Marseille", 105, "carbonfootprint.com 2018"),
    ("azure", "southafricanorth", "ZAF", "Johannesburg", 1009, "carbonfootprint.com 2018"),
    ("azure", "southafricawest", "ZAF", "Cape Town", 1009, "carbonfootprint.com 2018"),
]


def write(name, header_lines, columns, rows):
    with open(os.path.join(data, name), "w", newline="") as f:
        for line in header_lines:
            f.write("# " + line + "\n" if line else "#\n")
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)


def iso_table():
    with open("/usr/share/iso-codes/json/iso_3166-1.json") as f:
        return json.load(f)["3166-1"]


def grid():
    iso2 = {c["alpha_3"]: c["alpha_2"] for c in iso_table()}
    iso2["XKX"] = "XK"  # Kosovo: user-assigned code, absent from ISO 3166-1
    rows = []
    with open(os.path.join(ref, "grid-intensity.csv")) as f:
        for r in csv.DictReader(f):
            rows.append((r["iso3"], iso2.get(r["iso3"], ""), r["year"], r["g_co2e_per_kwh"],
                         r["fossil_share"], r["country"]))
    rows.sort()
    write("grid-intensity.csv", [
        "joulebench: carbon intensity of electricity by country (ISO 3166-1 alpha-3).",
        "iso2: alpha-2 code (default Electricity Maps zone); g_co2e_per_kwh: life-cycle grams",
        "CO2e per kWh consumed, for `year`; fossil_share: 0..1.",
        "Source: Ember yearly electricity data via Our World in Data, as compiled by",
        "CodeCarbon (MIT licence, codecarbon/data/private_infra/global_energy_mix.json).",
        "Regenerate with scripts/make_carbon_tables.py. Unknown location: world average",
        "475 g/kWh (IEA 2019, CodeCarbon's default), applied with a warning (src/carbon).",
    ], ["iso3", "iso2", "year", "g_co2e_per_kwh", "fossil_share", "name"], rows)


def clouds():
    rows = []
    with open(os.path.join(ref, "cloud-regions.csv")) as f:
        for r in csv.DictReader(f):
            region = {"me-cenrtal1": "me-central1"}.get(r["region"], r["region"])  # typo upstream
            rows.append((r["provider"], region, r["country_iso3"], r["g_co2e_per_kwh"],
                         "Google Cloud region carbon data (location-based grid intensity)", r["city"]))
    for p, region, iso3, city, g, src in OTHER_CLOUDS:
        rows.append((p, region, iso3, g, src, city))
    rows.sort(key=lambda r: (r[0], r[1]))
    write("cloud-regions.csv", [
        "joulebench: carbon intensity of cloud provider regions, g CO2e per kWh.",
        "Keys are provider:region as the providers spell them (gcp:europe-west1, aws:us-west-2).",
        "Sources: gcp rows from Google Cloud's published region carbon data; aws and azure rows",
        "from CodeCarbon's codecarbon/data/cloud/impact.csv (MIT), each with the source it cites",
        "(eGRID for US regions). Regenerate with scripts/make_carbon_tables.py.",
    ], ["provider", "region", "iso3", "g_co2e_per_kwh", "source", "city"], rows)


def timezones():
    iso = {c["alpha_2"]: c["alpha_3"] for c in iso_table()}
    rows = []
    with open("/usr/share/zoneinfo/zone.tab") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            rows.append((parts[2], iso[parts[0]]))
    # Common aliases that zone.tab lists under another name (links in tzdata 'backward').
    aliases = {"US/Eastern": "USA", "US/Central": "USA", "US/Mountain": "USA", "US/Pacific": "USA",
               "Europe/Kiev": "UKR", "Asia/Calcutta": "IND", "Asia/Saigon": "VNM",
               "Asia/Katmandu": "NPL", "America/Buenos_Aires": "ARG", "Canada/Eastern": "CAN",
               "Canada/Pacific": "CAN", "Australia/ACT": "AUS", "Australia/NSW": "AUS",
               "Asia/Rangoon": "MMR", "Japan": "JPN", "PRC": "CHN", "ROK": "KOR", "GB": "GBR",
               "Eire": "IRL", "Singapore": "SGP", "Turkey": "TUR", "Israel": "ISR",
               "NZ": "NZL", "Iceland": "ISL", "Poland": "POL", "Portugal": "PRT"}
    have = {r[0] for r in rows}
    rows += [(k, v) for k, v in aliases.items() if k not in have]
    rows.sort()
    write("timezone-countries.csv", [
        "joulebench: IANA time zone -> country (ISO 3166-1 alpha-3), used only when no",
        "location was given (flag, environment, config), with a message saying so.",
        "Source: tzdata's zone.tab (one country per zone) and iso-codes' ISO 3166-1 table,",
        "plus common legacy aliases. Regenerate with scripts/make_carbon_tables.py.",
    ], ["tz", "iso3"], rows)


grid()
clouds()
timezones()
