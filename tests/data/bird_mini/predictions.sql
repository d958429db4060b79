SELECT COUNT(id) FROM schools WHERE county = 'Alameda'
SELECT DISTINCT county FROM schools WHERE enrollment > 500 ORDER BY county DESC
SELECT county, SUM(enrollment) FROM schools GROUP BY county ORDER BY 2 DESC LIMIT 1
SELECT enrollment * free_meal_rate, name FROM schools WHERE county = 'Fresno'
SELECT SUM(T2.avg_math) / COUNT(*) FROM schools AS T1 JOIN scores AS T2 ON T1.id = T2.school_id WHERE T1.county = 'Alameda' AND T2.year = 2020 AND T2.num_tested > 50
SELECT T1.name FROM schools AS T1 JOIN scores AS T2 ON T1.id = T2.school_id WHERE T2.year = 2021 AND T2.avg_math > (SELECT AVG(avg_math) FROM scorez WHERE year = 2021)
